package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// timeTolerance is the relative deviation from the mean step that a time
// column may show before it counts as non-uniform.
const timeTolerance = 1e-6

// textData is the content of a text file: the samples and, for two-column
// files, the start time and sample rate the time column implies.
type textData struct {
	Values  []float64
	Columns int
	T0      *float64
	Rate    *float64 // nil unless there are at least two rows of times
}

// bom is the byte order mark spreadsheet exports put first.
var bom = []byte("\ufeff")

// parseText decodes a text file of one column (value) or two (time,
// value), separated by a comma or whitespace. '#' starts a comment.
func parseText(data []byte) (*textData, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("empty file")
	}
	data = bytes.TrimPrefix(data, bom)
	var p textParser
	for lineNo := 1; len(data) > 0; lineNo++ {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		if err := p.line(lineNo, line); err != nil {
			return nil, err
		}
	}
	return p.finish()
}

// readText decodes the text file o as parseText does, without holding the
// file in memory: a first pass counts the lines that may hold a sample, so
// that the values are allocated once, at about their size; a second parses
// the lines as they stream in. Refusals are InputErrors; a file that
// changes between or during the passes gives an error wrapping ErrChanged.
func (o *openFile) readText() (*textData, error) {
	lines, err := o.countTextLines()
	if err != nil {
		return nil, err
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	p := textParser{td: textData{Values: make([]float64, 0, lines)}}
	in := bufio.NewReaderSize(io.NewSectionReader(o.f, 0, o.size), 64<<10)
	var long []byte // a line longer than in's buffer, pieced together
	var read int64
	for lineNo := 1; ; lineNo++ {
		line, err := in.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = in.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		read += int64(len(line))
		if len(line) == 0 {
			break
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if lineNo == 1 {
			line = bytes.TrimPrefix(line, bom)
		}
		if perr := p.line(lineNo, line); perr != nil {
			return nil, inputErr(o.errPath, perr, perr.Error())
		}
		if err != nil {
			break
		}
	}
	if read < o.size {
		return nil, o.shrank()
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	td, err := p.finish()
	if err != nil {
		return nil, inputErr(o.errPath, err, err.Error())
	}
	return td, nil
}

// countTextLines counts the lines of the file o that hold something other
// than ASCII white space before any '#': an upper bound on the samples
// parseText finds in them, and at most one per two bytes of the file.
func (o *openFile) countTextLines() (int, error) {
	buf := make([]byte, 64<<10)
	n := 0
	content, comment := false, false
	for off := int64(0); off < o.size; {
		chunk := buf[:min(int64(len(buf)), o.size-off)]
		if err := o.readAt(chunk, off); err != nil {
			return 0, err
		}
		off += int64(len(chunk))
		for _, c := range chunk {
			switch {
			case c == '\n':
				if content {
					n++
				}
				content, comment = false, false
			case comment || content:
			case c == '#':
				comment = true
			case c != ' ' && c != '\t' && c != '\r' && c != '\v' && c != '\f':
				content = true
			}
		}
	}
	if content {
		n++
	}
	return n, nil
}

// textParser decodes a text file a line at a time. It keeps no column of
// times: the checks of the time column are made as its rows come, with
// the messages and line numbers they would have were all the times at
// hand.
type textParser struct {
	td        textData
	firstLine int // the first line with samples, which sets the columns

	// Of a time column: the rows so far, the first and latest time, and
	// the first step.
	rows            int
	first, prev, dt float64
	// stepErr is the first step out of line, which is told only if no
	// line of the file is refused: the steps are checked once the whole
	// column is read.
	stepErr error
}

// line decodes line number lineNo, without its newline. It allocates
// nothing but the values' growth and errors.
func (p *textParser) line(lineNo int, line []byte) error {
	if i := bytes.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil
	}
	var fields [2][]byte // the first two; n counts them all
	n := 0
	if bytes.IndexByte(line, ',') >= 0 {
		for rest, more := line, true; more; {
			var f []byte
			f, rest, more = bytes.Cut(rest, []byte(","))
			f = bytes.TrimSpace(f)
			if len(f) == 0 {
				return fmt.Errorf("line %d: empty field", lineNo)
			}
			if n < len(fields) {
				fields[n] = f
			}
			n++
		}
	} else {
		n = splitFields(line, &fields)
	}
	switch {
	case n > 2:
		return fmt.Errorf("line %d: %d columns; want one (value) or two (time, value)", lineNo, n)
	case p.td.Columns == 0:
		p.td.Columns, p.firstLine = n, lineNo
	case n != p.td.Columns:
		return fmt.Errorf("line %d: %d columns, but line %d has %d", lineNo, n, p.firstLine, p.td.Columns)
	}
	var nums [2]float64
	for i, f := range fields[:n] {
		x, err := strconv.ParseFloat(string(f), 64)
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("line %d: %s is out of range for float64 (column %d)", lineNo, describe(string(f)), i+1)
		}
		if err != nil {
			return fmt.Errorf("line %d: %s is not a number (column %d)", lineNo, describe(string(f)), i+1)
		}
		nums[i] = x
	}
	if n == 2 {
		if err := p.time(lineNo, nums[0]); err != nil {
			return err
		}
	}
	p.td.Values = append(p.td.Values, nums[n-1])
	return nil
}

// splitFields splits s around runs of white space as strings.Fields does,
// keeping the first two fields in f, and returns how many there are.
func splitFields(s []byte, f *[2][]byte) int {
	n, start := 0, -1
	for i := 0; i <= len(s); {
		space, w := true, 1
		if i < len(s) {
			r := rune(s[i])
			if r >= utf8.RuneSelf {
				r, w = utf8.DecodeRune(s[i:])
			}
			space = unicode.IsSpace(r)
		}
		switch {
		case space && start >= 0:
			if n < len(f) {
				f[n] = s[start:i]
			}
			n, start = n+1, -1
		case !space && start < 0:
			start = i
		}
		i += w
	}
	return n
}

// time takes the time of the row at line lineNo.
//
// Every step must be within timeTolerance of the first, so that an error
// names the line where the spacing breaks.
func (p *textParser) time(lineNo int, t float64) error {
	if math.IsNaN(t) || math.IsInf(t, 0) {
		return fmt.Errorf("line %d: time %s is not finite", lineNo, fmtFloat(t))
	}
	if p.rows > 0 && t <= p.prev {
		return fmt.Errorf("line %d: time %s does not increase after %s", lineNo, fmtFloat(t), fmtFloat(p.prev))
	}
	switch p.rows {
	case 0:
		p.first = t
	case 1:
		p.dt = t - p.first
	}
	if p.rows > 0 && p.stepErr == nil {
		step := t - p.prev
		// Allow for the rounding of the times themselves: at large GPS
		// times a float64 cannot resolve steps more finely than this.
		ulp := math.Max(ulpOf(t), ulpOf(p.first))
		if math.Abs(step-p.dt) > timeTolerance*p.dt+2*ulp {
			p.stepErr = fmt.Errorf("non-uniform time column at line %d: step %s, expected %s", lineNo, fmtFloat(step), fmtFloat(p.dt))
		}
	}
	p.prev = t
	p.rows++
	return nil
}

// finish completes the decoding once every line is in. The rate comes
// from the whole span of a time column, which is less affected by
// rounding of single times than one step.
func (p *textParser) finish() (*textData, error) {
	td := &p.td
	if len(td.Values) == 0 {
		return nil, fmt.Errorf("no samples")
	}
	if p.rows > 0 {
		t0 := p.first
		td.T0 = &t0
	}
	if p.rows >= 2 {
		if p.stepErr != nil {
			return nil, p.stepErr
		}
		rate := float64(p.rows-1) / (p.prev - p.first)
		if !isFinite(rate) || rate <= 0 {
			return nil, fmt.Errorf("time column from %s to %s does not give a usable sample rate", fmtFloat(p.first), fmtFloat(p.prev))
		}
		td.Rate = &rate
	}
	return td, nil
}

func ulpOf(x float64) float64 {
	x = math.Abs(x)
	return math.Nextafter(x, math.Inf(1)) - x
}

func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
