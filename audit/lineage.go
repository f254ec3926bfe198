package audit

import "reflect"

// Lineage is what the log says of one archive: the record that archived
// it, and every later record about its source or the archive.
type Lineage struct {
	Record   Record   // the "archived" record
	Archived Archived // its event fields
	Later    []Record // oldest first
}

// Lineages reads the log at path once for the archived records of the
// archives found (as an Index gives them) and, for each, every later
// record that names its source path, its archive path or its source's
// SHA-256. The lineages are in the order of found.
func Lineages(path string, found []Archive) ([]Lineage, error) {
	out := make([]Lineage, len(found))
	bySeq := map[uint64]int{}
	for i, a := range found {
		bySeq[a.Seq] = i
	}
	err := Scan(path, func(rec Record, _ []byte) error {
		e, _ := rec.Decode() // an event this version does not know names nothing
		if i, ok := bySeq[rec.Seq]; ok {
			out[i].Record = rec
			out[i].Archived, _ = e.(Archived)
			return nil
		}
		srcPath, srcSHA, arcPath := subjectOf(e)
		for i, a := range found {
			if rec.Seq > a.Seq && (srcSHA == a.SourceSHA256 || arcPath == a.ArchivePath || srcPath == a.SourcePath) {
				out[i].Later = append(out[i].Later, rec)
			}
		}
		return nil
	})
	return out, err
}

// subjectOf returns the source and archive a record names: the fields
// SourcePath, SourceSHA256 and ArchivePath of its type, "" for those it
// does not have.
func subjectOf(e Event) (sourcePath, sourceSHA256, archivePath string) {
	v := reflect.ValueOf(e)
	if v.Kind() != reflect.Struct {
		return "", "", ""
	}
	field := func(name string) string {
		if f := v.FieldByName(name); f.Kind() == reflect.String {
			return f.String()
		}
		return ""
	}
	return field("SourcePath"), field("SourceSHA256"), field("ArchivePath")
}
