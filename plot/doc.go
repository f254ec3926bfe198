// Package plot draws amplitude spectral densities and spectrograms as PNG
// images.
//
// It renders from plain slices and knows nothing of archives: the caller
// reads the data, composes titles and units, and hands them to WriteASD or
// WriteSpectrogram. Logarithmic axes and colour scales cannot show zero,
// negative or non-finite values, so those are left out of the drawing (a gap
// in a curve, an empty cell in a spectrogram) rather than failing; input with
// nothing drawable is reported as ErrNoData.
package plot
