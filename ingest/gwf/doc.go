// Package gwf reads IGWD frame files (.gwf), the format detectors write.
//
// Decode parses a whole file held in memory: the file header, the
// dictionary that names each structure class, every frame's FrameH, and
// the FrAdcData, FrProcData and FrSimData channels with the FrVect that
// holds their samples. Every other structure (events, tables, histories,
// detectors, the table of contents, ...) is checked and skipped. Format
// versions 6 to 9 are read, in either byte order, with every compression
// the format defines: gzip, differences then gzip, zero suppression of 2,
// 4 and 8 byte words and, in version 9, zstd.
//
// Every checksum the file carries is verified, every length is checked
// against the bytes that remain before anything is allocated, and the
// decoded size of a vector is bounded by what its compressed bytes could
// physically expand to, so a hostile file costs bounded memory and time.
// A file that is corrupt or truncated is rejected whole; Decode never
// returns part of one.
//
// File.Series joins each channel's pieces across frames into contiguous
// series, starting a new series at any gap, overlap or change of metadata.
package gwf
