// Package archive writes and reads gwwatchd's archives: one HDF5 file per
// source file, holding its raw series with their provenance, the products
// derived from them, and views of both for gwpy. All of gwwatchd's HDF5
// knowledge of the layout lives here.
//
// Writing: Content is what goes into one archive; Content.Doc lays it out
// as a document, and WriteFile (or WriteTemp, then Temp.Commit) writes it
// atomically below an archive root, at the path Content.RelPath renders
// from the configured layout; Content.WriteTemp does both for gwwatchd's
// pipeline and for package provenance, which programs of their own write
// archives with. WithAdded lays out an archive with more
// products, and WriteTemp then Temp.Replace writes it over the old one.
//
// Reading: Open reads an archive back as an Archive, the typed read
// model of the layout, from which every reader (verify, inspect, plot,
// adoption by the pipeline) takes its facts:
//
//	Archive    root: Format, FormatVersion, ID, ContentKey, Source, Sidecar, Provenance, ProvJSON
//	  Series   /raw/<dataset>: Channel, T0, DT, SampleRate, Unit, UnitSource, Params, Skipped
//	  Product  /processed/<dataset>/...: Kind, Parent, Step, Params (WelchParams), Filter, Resample,
//	           Trend (typed params_json of a chain's products), Unit, Quantity, SampleRate, Axes
//	  View     /gwpy/<kind>/<dataset>, /gwpy/products/<dataset>/<leaf>: Kind, Name, Leaf, Of
//	  Object   what each of them has: Path, Shape, DType, DataSHA256, Provenance, and Load
//
// Open reads attributes only; Object.Load reads one dataset's values when
// they are needed. Each product names the dataset it was made of
// (Product.Parent), a raw series or another product, and
// Archive.Products lists the products in dependency order. Read gives the
// HDF5 document of a file as it is, for tests and tools.
//
// Products of a processing chain (Entry.Derived) are stored below
// /processed/<dataset> by their name (DerivedPaths): a time series
// (highpass, lowpass, bandpass, resample) or a spectrogram as <name>, an
// ASD as <name>_values and <name>_frequencies, a trend as <name>.mean,
// .min, .max, .rms and .n; the ASD "asd" and spectrogram "spectrogram"
// of the raw series keep the paths archives before chains give them. A
// product that was not made is explained by a <name>_skipped attribute
// of its raw series.
//
// A product of a kind gwwatchd does not make (Derived.Own, KnownKind
// false), which a program of its own writes through package
// provenance, is stored as <name> with its own params_json, unit and
// axes; its view for gwpy is a TimeSeries, FrequencySeries or
// Spectrogram by the axes it has, and Product.OwnParams reads its
// parameters back.
//
// Versions: an archive may be given products later (WithAdded, as
// gwwatchd reprocess does), and never loses or changes one. A product
// whose name the archive holds already, made with other parameters or of
// another parent, is stored as a new version of it: its name, VersionSep
// ("@") and the version, from 2 on (VersionedName), so that "bp" is
// followed by "bp@2" (/processed/<dataset>/bp@2), an ASD "asd" by
// asd@2_values and asd@2_frequencies, a trend "minute" by minute@2.mean
// and so on. A configured name holds neither "@" nor ".", and cannot end
// in _values or _frequencies, so each stored name reads back as one name
// and one version (Product.Name, Product.Version); the first version has
// the name alone, as archives before versions store it.
package archive
