// Package processor derives products from detector time series, each equal to what scipy or numpy computes: amplitude spectral densities and spectrograms by Welch's method (scipy.signal.welch as gwpy uses it), Butterworth filters (butter and sosfiltfilt), rational resampling (resample_poly) and the DAQ's second and minute trends.
package processor
