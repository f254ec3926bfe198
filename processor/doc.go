// Package processor derives amplitude spectral densities and spectrograms from detector time series using Welch's method, matching scipy.signal.welch as used by gwpy.
package processor
