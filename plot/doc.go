// Package plot draws amplitude spectral densities and spectrograms as PNG images.
package plot

import _ "gonum.org/v1/plot"
