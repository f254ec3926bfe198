package archive

import (
	"strings"

	"github.com/gwwatchd/gwwatchd/archive/layout"
)

// The names of the archive layout: its groups, the datasets of a
// product, and the attributes. The writer (Content.Doc) and the read
// model (Open) both spell them from here, and nothing outside this
// package spells them at all, but for the suffixes of an ASD's datasets:
// they are in archive/layout, for the configuration to refuse product
// names that end in them without linking libhdf5.

const (
	rawGroup       = "/raw"
	processedGroup = "/processed"
)

// The dataset each product of a raw series is stored as, below
// /processed/<dataset>.
var productLeaf = map[string]string{
	ProductASD:         ProductASD + layout.ValuesSuffix,
	ProductFrequencies: ProductASD + layout.FrequenciesSuffix,
	ProductSpectrogram: "spectrogram",
}

// Root attributes.
const (
	attrFormat        = "format"
	attrFormatVersion = "format_version"
	attrArchiveID     = "archive_id"
	attrContentKey    = "content_key"
	attrSourcePath    = "source_path"
	attrSourceSHA256  = "source_sha256"
	attrSourceSize    = "source_size"
	attrSourceMtime   = "source_mtime_utc"
	attrSidecarPath   = "sidecar_path"
	attrSidecarSHA256 = "sidecar_sha256"
	attrProvJSON      = "prov_json"
)

// Attributes of raw series and products.
const (
	attrT0          = "t0"
	attrDT          = "dt"
	attrF0          = "f0"
	attrDF          = "df"
	attrSampleRate  = "sample_rate"
	attrUnit        = "unit"
	attrUnitSource  = "unit_source"
	attrName        = "name"
	attrChannel     = "channel"
	attrDescription = "description"
	attrDataSHA256  = "data_sha256"
	attrParamsJSON  = "params_json"
	attrProduct     = "product"
	attrParent      = "parent_dataset"
	attrStep        = "processing_step"
	attrValues      = "values" // what a spectrogram holds: "asd" or "psd"
)

// Attributes gwpy reads, of the views for gwpy and of raw series.
const (
	attrX0    = "x0"
	attrDX    = "dx"
	attrY0    = "y0"
	attrDY    = "dy"
	attrXUnit = "xunit"
)

// The provenance set, on the root and on every raw series and product.
const (
	attrVersion         = "gwwatchd_version"
	attrPipelineVersion = "pipeline_version"
	attrGoVersion       = "go_version"
	attrHDF5Version     = "hdf5_version"
	attrGonumVersion    = "gonum_version"
	attrHostname        = "hostname"
	attrCreated         = "created_utc"

	// The program that wrote the archive through the writer API, when it
	// is not gwwatchd itself (Content.Program).
	attrProgram        = "program"
	attrProgramVersion = "program_version"
)

// provenanceNames are the attributes of the provenance set, in the order
// written and shown.
var provenanceNames = []string{attrVersion, attrPipelineVersion, attrGoVersion, attrHDF5Version, attrGonumVersion, attrHostname, attrCreated}

// skippedKinds are the products whose absence a raw series explains, each
// in the attribute skippedAttr names.
var skippedKinds = []string{ProductASD, ProductSpectrogram}

// skippedAttr is the attribute of a raw series that says why it has no
// product of a name: "asd_skipped", "spectrogram_skipped", "bp_skipped".
func skippedAttr(kind string) string { return kind + SkippedSuffix }

// SkippedSuffix ends the name of the attribute of a raw series that says
// why it has no product of a name (the name before it).
const SkippedSuffix = "_skipped"

// RawPath returns the path of a series' raw dataset.
func RawPath(dataset string) string { return rawGroup + "/" + dataset }

// ProcessedPath returns the path of a dataset below a series' products,
// such as "asd_values".
func ProcessedPath(dataset, leaf string) string {
	return processedGroup + "/" + dataset + "/" + leaf
}

// productPath is where a raw series' product of a kind is stored.
func productPath(dataset, kind string) string { return ProcessedPath(dataset, productLeaf[kind]) }

// rawName returns the dataset name of a path below /raw, if it is one.
func rawName(path string) (string, bool) { return strings.CutPrefix(path, rawGroup+"/") }
