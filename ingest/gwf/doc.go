// Package gwf reads IGWD frame files (.gwf), the format detectors write.
package gwf

import _ "github.com/klauspost/compress/zstd"
