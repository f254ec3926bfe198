package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// An Event is the event-specific part of a record: one of the record
// types below, whose fields are the record's event fields under the names
// of their json tags. Log.Append writes one; Record.Decode reads it back.
// Each is encoded as canonjson.Marshal encodes a struct, which for the
// records gwwatchd has written gives the very bytes it wrote.
type Event interface {
	// EventName is the record's "event".
	EventName() string
}

// Event names.
const (
	eventStartup          = "startup"
	eventShutdown         = "shutdown"
	eventConfigReloaded   = "config_reloaded"
	eventArchived         = "archived"
	eventDuplicate        = "duplicate"
	eventRejected         = "rejected"
	eventQuarantined      = "quarantined"
	eventRemovalPlanned   = "removal_planned"
	eventSourceMoved      = "source_moved"
	eventSourceDeleted    = "source_deleted"
	eventRemovalAbandoned = "removal_abandoned"
	eventReprocessed      = "reprocessed"
	eventResumed          = "audit_resumed"
	eventRepaired         = "repaired"   // written by the log itself
	eventCheckpoint       = "checkpoint" // written by the log itself
)

// Invocation says which command of which gwwatchd started or stopped.
type Invocation struct {
	Command      string `json:"command"`  // "run", "ingest", ...
	Version      string `json:"version"`  // of gwwatchd
	Revision     string `json:"revision"` // of the pipeline (buildinfo PipelineVersion)
	PID          int    `json:"pid"`
	ConfigSHA256 string `json:"config_sha256,omitempty"` // of the effective configuration
	ConfigPath   string `json:"config_path,omitempty"`   // "" for the embedded default
}

// Startup, a "startup" record, is the first record of a command.
type Startup struct {
	Invocation
}

// Shutdown, a "shutdown" record, is the last record of a command,
// written before the log is closed.
type Shutdown struct {
	Invocation
	Error  string        `json:"error,omitempty"`     // why the command failed
	Uptime time.Duration `json:"uptime_ns,omitempty"` // of the daemon
	*Totals
}

// Totals are what an ingest command did.
type Totals struct {
	Files  int `json:"files"`  // given, sidecars named with their data file not counted
	Failed int `json:"failed"` // not archived
}

// ConfigReloaded, a "config_reloaded" record, is a daemon taking a new
// configuration.
type ConfigReloaded struct {
	Watches      int    `json:"watches"`
	ConfigSHA256 string `json:"config_sha256,omitempty"`
	ConfigPath   string `json:"config_path,omitempty"`
}

// Source identifies the source file of an archive as it was read: its
// data file, and its sidecar if it had one.
type Source struct {
	SourcePath    string    `json:"source_path"`
	SourceSize    int64     `json:"source_size"`
	SourceMtime   time.Time `json:"source_mtime"`
	SourceSHA256  string    `json:"source_sha256"`
	SidecarPath   string    `json:"sidecar_path,omitempty"`
	SidecarSHA256 string    `json:"sidecar_sha256,omitempty"`
}

// Archived, an "archived" record, is an archive written (or adopted) for
// a source.
type Archived struct {
	Source
	ArchivePath string `json:"archive_path"`
	// ContentKey identifies the content archived: the source and sidecar
	// bytes with the effective metadata of every series
	// (archive.ContentKey), in hex. De-duplication goes by it; records
	// written before it existed have none and match no content.
	ContentKey    string        `json:"content_key"`
	ArchiveSHA256 string        `json:"archive_sha256"`
	ArchiveSize   int64         `json:"archive_size"`
	ArchiveID     string        `json:"archive_id"`
	Datasets      []string      `json:"datasets"`         // raw dataset paths
	Products      []string      `json:"products"`         // processed dataset paths
	Params        *Params       `json:"params,omitempty"` // nil in records from before they were recorded
	Version       string        `json:"version"`
	Revision      string        `json:"revision"`
	Duration      time.Duration `json:"duration_ns"`
	// Adopted: the archive was on disk but not in the log (a crash, or a
	// record that failed, came between its write and its record), and
	// was checked and taken over.
	Adopted bool `json:"adopted,omitempty"`
	// The quick-look PNG beside the archive, or why it was not written.
	QuicklookPath   string `json:"quicklook_path,omitempty"`
	QuicklookSHA256 string `json:"quicklook_sha256,omitempty"`
	QuicklookError  string `json:"quicklook_error,omitempty"`
	// Skipped are the products not made, by path, and why.
	Skipped map[string]string `json:"skipped,omitempty"`
}

// Reprocessed, a "reprocessed" record, is an archive replaced by one
// that holds every dataset it held, as it was, and products added to
// them: the archive's sha256 and size before and after, the products
// added and their parameters. The archive's current sha256 is that of
// its last "reprocessed" record, else of its "archived" record.
type Reprocessed struct {
	ArchivePath    string         `json:"archive_path"`
	ArchiveID      string         `json:"archive_id"`
	PreviousSHA256 string         `json:"previous_sha256"`
	PreviousSize   int64          `json:"previous_size"`
	ArchiveSHA256  string         `json:"archive_sha256"`
	ArchiveSize    int64          `json:"archive_size"`
	Products       []AddedProduct `json:"products"`
	// Skipped are the products that could not be made, by path, and why.
	Skipped  map[string]string `json:"skipped,omitempty"`
	Version  string            `json:"version"`
	Revision string            `json:"revision"`
	Duration time.Duration     `json:"duration_ns"`
	// Adopted: the archive at the path was not the one the log last
	// recorded (a crash came between its replacement and its record), and
	// was checked and taken over as it is.
	Adopted bool `json:"adopted,omitempty"`
}

// AddedProduct is one product a reprocessing added to a raw series: its
// parameters as configured, the name it is stored by (its own, or a
// version of it such as "bp@2"), and its datasets.
type AddedProduct struct {
	ProductParams
	Dataset  string   `json:"dataset"` // the raw dataset it belongs to
	StoredAs string   `json:"stored_as"`
	Paths    []string `json:"paths"`
}

// Params are the processing parameters an archive was made with.
type Params struct {
	ASD         WelchParams       `json:"asd"`
	Spectrogram SpectrogramParams `json:"spectrogram"`
	Layout      string            `json:"layout"`
	Compression string            `json:"compression"`
	// Products are the products of the processing chain besides the ASD
	// and the spectrogram above, each after its input; none in records
	// from before chains, and of configurations without them.
	Products []ProductParams `json:"products,omitempty"`
}

// ProductParams are the parameters of one product of a processing chain:
// what it is made of and the parameters of its kind, the others zero.
type ProductParams struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`  // asd, spectrogram, highpass, lowpass, bandpass, resample, trend
	Input    string   `json:"input"` // "raw" or another product's name
	Channels []string `json:"channels,omitempty"`
	// Welch are the parameters of an asd or a spectrogram.
	Welch  *WelchParams `json:"welch,omitempty"`
	Stride float64      `json:"stride,omitempty"` // seconds: of a spectrogram's rows, of a trend's samples
	Order  int          `json:"order,omitempty"`
	Cutoff float64      `json:"cutoff,omitempty"` // Hz
	Low    float64      `json:"low,omitempty"`    // Hz
	High   float64      `json:"high,omitempty"`   // Hz
	Rate   float64      `json:"rate,omitempty"`   // Hz, of a resampling
}

// WelchParams are the parameters of a Welch estimate, in seconds.
type WelchParams struct {
	Enabled   bool    `json:"enabled"`
	FFTLength float64 `json:"fftlength"`
	Overlap   float64 `json:"overlap"` // as used: the default resolved
	Method    string  `json:"method"`
	Window    string  `json:"window"`
}

// SpectrogramParams are the parameters of the spectrogram.
type SpectrogramParams struct {
	WelchParams
	Stride float64 `json:"stride"`
}

// Duplicate, a "duplicate" record, is a source whose content the log
// already has archived, at ArchivePath.
type Duplicate struct {
	Source
	ArchivePath string `json:"archive_path"`
	ContentKey  string `json:"content_key"`
}

// Rejected, a "rejected" record, is a source that is not valid input, and
// why.
type Rejected struct {
	SourcePath string `json:"source_path"`
	Reason     string `json:"reason"`
}

// Quarantined, a "quarantined" record, closes the plan to quarantine a
// rejected source (Planned), or says that it could not be planned (Planned
// 0, with NotMoved).
type Quarantined struct {
	Planned         uint64 `json:"planned,omitempty"`
	SourcePath      string `json:"source_path"`
	Reason          string `json:"reason"`
	QuarantinePath  string `json:"quarantine_path,omitempty"` // where the data file went
	ReasonFile      string `json:"reason_file,omitempty"`     // written beside it
	NotMoved        string `json:"not_moved,omitempty"`       // why it was not moved, or not in full
	ReasonFileError string `json:"reason_file_error,omitempty"`
}

// RemovalPlanned, a "removal_planned" record, is the plan to move, delete
// or quarantine the files of one source. A source leaves its watch directory (moved to done_dir or
// quarantine_dir, or deleted) only after this record names every file
// that goes, and each file that went has its own SourceMoved or
// SourceDeleted record naming the plan. So a crash between the plan and
// the last of its records leaves a plan that an Index reports as pending,
// and the next start finishes it: kill -9 at any moment leaves every
// removal in the log, and a data file and its sidecar go together.
type RemovalPlanned struct {
	Action string        `json:"action"` // "move", "delete" or "quarantine"
	Files  []RemovalFile `json:"files"`
	ToDir  string        `json:"to_dir,omitempty"` // the done or quarantine directory of a move
	// For a move or delete, the archive of the source.
	ArchivePath  string `json:"archive_path,omitempty"`
	ContentKey   string `json:"content_key,omitempty"`
	SourceSHA256 string `json:"source_sha256,omitempty"`
	// For a quarantine, why the source was rejected.
	Reason string `json:"reason,omitempty"`
}

// RemovalFile is one file of a removal.
type RemovalFile struct {
	Path   string `json:"path"`
	To     string `json:"to,omitempty"` // destination of a move
	SHA256 string `json:"sha256"`       // of the file as planned

	// Done: its SourceMoved, SourceDeleted or RemovalAbandoned record is
	// in the log. An Index sets it; it is not part of the plan.
	Done bool `json:"-"`
}

// SourceMoved, a "source_moved" record, is one file of a plan moved to
// MovedTo.
type SourceMoved struct {
	Planned      uint64 `json:"planned"` // seq of the RemovalPlanned record
	SourcePath   string `json:"source_path"`
	MovedTo      string `json:"moved_to"`
	SourceSHA256 string `json:"source_sha256"`
	ArchivePath  string `json:"archive_path,omitempty"`
	Quarantine   bool   `json:"quarantine,omitempty"` // moved to quarantine
}

// SourceDeleted, a "source_deleted" record, is one file of a plan
// deleted.
type SourceDeleted struct {
	Planned      uint64 `json:"planned"`
	SourcePath   string `json:"source_path"`
	SourceSHA256 string `json:"source_sha256"`
	ArchivePath  string `json:"archive_path,omitempty"`
}

// RemovalAbandoned, a "removal_abandoned" record, is one file of a plan
// that was not removed, and why.
type RemovalAbandoned struct {
	Planned    uint64 `json:"planned"`
	SourcePath string `json:"source_path"`
	Reason     string `json:"reason"`
}

// Resumed, an "audit_resumed" record, is a daemon's log taking records
// again after appends failed: since when they did, and the error that
// stopped them.
type Resumed struct {
	DownSince time.Time `json:"down_since"`
	Error     string    `json:"error"`
}

// repairedRecord is a "repaired" record, which only the log writes when it
// cuts a torn tail off the active segment: the segment, and how many bytes
// went with which SHA-256.
type repairedRecord struct {
	Segment       string `json:"segment"`
	BytesDropped  int64  `json:"bytes_dropped"`
	DroppedSHA256 string `json:"dropped_sha256"`
}

// checkpointRecord is a "checkpoint" record, which only the log writes
// (see the package documentation). Its fields are pointers so that a
// reader can tell a missing one.
type checkpointRecord struct {
	Size           *int64  `json:"size"`
	Root           *string `json:"root"`
	Note           *string `json:"note"`
	Unattested     int64   `json:"unattested,omitempty"`
	UnattestedFrom uint64  `json:"unattested_from,omitempty"`
}

func (Startup) EventName() string          { return eventStartup }
func (Shutdown) EventName() string         { return eventShutdown }
func (ConfigReloaded) EventName() string   { return eventConfigReloaded }
func (Archived) EventName() string         { return eventArchived }
func (Duplicate) EventName() string        { return eventDuplicate }
func (Rejected) EventName() string         { return eventRejected }
func (Quarantined) EventName() string      { return eventQuarantined }
func (RemovalPlanned) EventName() string   { return eventRemovalPlanned }
func (SourceMoved) EventName() string      { return eventSourceMoved }
func (SourceDeleted) EventName() string    { return eventSourceDeleted }
func (RemovalAbandoned) EventName() string { return eventRemovalAbandoned }
func (Reprocessed) EventName() string      { return eventReprocessed }
func (Resumed) EventName() string          { return eventResumed }
func (repairedRecord) EventName() string   { return eventRepaired }
func (checkpointRecord) EventName() string { return eventCheckpoint }

// eventTypes are the record types by event name.
var eventTypes = func() map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for _, e := range []Event{Startup{}, Shutdown{}, ConfigReloaded{}, Archived{}, Duplicate{}, Rejected{}, Quarantined{},
		RemovalPlanned{}, SourceMoved{}, SourceDeleted{}, RemovalAbandoned{}, Reprocessed{}, Resumed{}, repairedRecord{}, checkpointRecord{}} {
		m[e.EventName()] = reflect.TypeOf(e)
	}
	return m
}()

// errUnknownEvent is returned by Record.Decode for an event this version
// has no record type for.
var errUnknownEvent = errors.New("unknown audit event")

// decodeEvent decodes the event fields of a record line.
func decodeEvent(event string, line []byte) (Event, error) {
	t, ok := eventTypes[event]
	if !ok {
		return nil, fmt.Errorf("%q: %w", event, errUnknownEvent)
	}
	p := reflect.New(t)
	if err := json.Unmarshal(line, p.Interface()); err != nil {
		return nil, fmt.Errorf("%s record: %w", event, err)
	}
	return p.Elem().Interface().(Event), nil
}

// checkEvent checks that e is one of the record types of its event, so
// that no other package writes record fields of its own.
func checkEvent(e Event) error {
	if t, ok := eventTypes[e.EventName()]; !ok || t != reflect.TypeOf(e) {
		return fmt.Errorf("%T is not the record type of event %q: %w", e, e.EventName(), ErrInvalidField)
	}
	return nil
}

// jsonKey returns the key under which the field name of the record type
// of e is written: where a reader picks fields out of lines itself, the
// record type still spells the key.
func jsonKey(e Event, name string) string {
	f, ok := reflect.TypeOf(e).FieldByName(name)
	if !ok {
		panic("audit: no field " + name + " in " + reflect.TypeOf(e).String())
	}
	key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return key
}
