// Package gwf reads IGWD frame files (.gwf), the format detectors write.
//
// Decode parses a whole file held in memory: the file header, the
// dictionary (FrSH) that names each structure class, every frame's FrameH,
// and the FrAdcData, FrProcData and FrSimData channels with the FrVect that
// holds their samples, found by the class and instance their data pointer
// names within the frame. Every other structure (FrSE, events, tables,
// histories, detectors, static data, the table of contents, ...) is checked
// and skipped by its length.
//
// Format versions 6 to 9 are read, in either byte order, with every data
// type except STRING. Up to version 8 an FrVect's compression code is one
// of 0 (raw), 1 (gzip), 3 (differences, then gzip), 5, 8 and 10 (zero
// suppression of 2, 4 and 8-byte words) and 6 (zero suppression for 2-byte
// types, gzip for the rest); 256 added to it says the data were written
// little-endian, whatever the order of the file's other fields. Version 9
// structures are read as version 8's, and its compression code is a set of
// flags: 1 gzip, 2 differences, 4 zero suppression of the type's own word
// size, 8 zstd, and 256 little-endian as before.
//
// Every checksum the file carries is verified: from version 8, the
// checksum ending each structure, the file header's and the file's, all
// POSIX cksum CRCs; before it, the frame and file checksums. A checksum
// stored as 0, or a checksum type of 0, means none was computed.
//
// Every length is checked against the bytes that remain before anything is
// allocated, and a vector's declared size against what its stored bytes
// could expand to (1032 times for gzip and for zero suppression, whose
// block structure is checked too, 32768 times for zstd), so a hostile file
// costs memory and time bounded by its size and by Options.MaxBytes. A
// file that is corrupt or truncated is rejected whole; Decode never returns
// part of one. Options.Scan makes the same checks of every size without
// expanding any vector, to tell what decoding a file would take.
//
// Options.Read reads a file that need not be in memory: in one sequential
// pass through an io.Reader, holding a few buffers of fixed size, one
// structure other than a vector at a time, and the metadata it keeps, it
// makes every check Decode makes short of expanding the samples, every
// checksum included, and returns an Index. Index.Load then reads, through
// an io.ReaderAt, the vectors of one series and nothing else, checks them
// again and expands them into the series' samples, allocated once; several
// series may be loaded at once. Decode and Scan read a file in memory by
// the same pass, Decode then expanding every channel kept while it checks
// the vectors' checksums and the file's.
//
// When a file is corrupt in more than one way, the error told is, in this
// order: the first thing wrong in the structures, in file order, where a
// vector used by a channel that looks wrong but fails its checksum is told
// as the checksum mismatch; then the file checksum; then the first vector
// checksum mismatch in file order; then the first error in expanding the
// samples. An error that a file is unsupported or too large is told only
// once the file checksum, when there is one, has shown the file intact.
//
// File.Series joins each channel's pieces across frames into contiguous
// series, starting a new series at any gap, overlap or change of metadata.
package gwf
