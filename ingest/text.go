package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
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

// parseText decodes a text file of one column (value) or two (time,
// value), separated by a comma or whitespace. '#' starts a comment.
func parseText(data []byte) (*textData, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("empty file")
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // spreadsheet exports add a BOM
	td := &textData{}
	var times []float64
	var timeLines []int
	firstLine := 0
	for lineNo := 1; len(data) > 0; lineNo++ {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		s := strings.TrimSpace(string(line))
		if s == "" {
			continue
		}
		var fields []string
		if strings.Contains(s, ",") {
			fields = strings.Split(s, ",")
			for i, f := range fields {
				fields[i] = strings.TrimSpace(f)
				if fields[i] == "" {
					return nil, fmt.Errorf("line %d: empty field", lineNo)
				}
			}
		} else {
			fields = strings.Fields(s)
		}
		switch {
		case len(fields) > 2:
			return nil, fmt.Errorf("line %d: %d columns; want one (value) or two (time, value)", lineNo, len(fields))
		case td.Columns == 0:
			td.Columns, firstLine = len(fields), lineNo
		case len(fields) != td.Columns:
			return nil, fmt.Errorf("line %d: %d columns, but line %d has %d", lineNo, len(fields), firstLine, td.Columns)
		}
		nums := make([]float64, len(fields))
		for i, f := range fields {
			x, err := strconv.ParseFloat(f, 64)
			if errors.Is(err, strconv.ErrRange) {
				return nil, fmt.Errorf("line %d: %s is out of range for float64 (column %d)", lineNo, describe(f), i+1)
			}
			if err != nil {
				return nil, fmt.Errorf("line %d: %s is not a number (column %d)", lineNo, describe(f), i+1)
			}
			nums[i] = x
		}
		if td.Columns == 2 {
			if math.IsNaN(nums[0]) || math.IsInf(nums[0], 0) {
				return nil, fmt.Errorf("line %d: time %s is not finite", lineNo, fmtFloat(nums[0]))
			}
			if n := len(times); n > 0 && nums[0] <= times[n-1] {
				return nil, fmt.Errorf("line %d: time %s does not increase after %s", lineNo, fmtFloat(nums[0]), fmtFloat(times[n-1]))
			}
			times = append(times, nums[0])
			timeLines = append(timeLines, lineNo)
		}
		td.Values = append(td.Values, nums[len(nums)-1])
	}
	if len(td.Values) == 0 {
		return nil, fmt.Errorf("no samples")
	}
	if len(times) > 0 {
		t0 := times[0]
		td.T0 = &t0
	}
	if len(times) >= 2 {
		rate, err := timeRate(times, timeLines)
		if err != nil {
			return nil, err
		}
		td.Rate = &rate
	}
	return td, nil
}

// timeRate returns the sample rate of an increasing time column after
// checking that every step is within timeTolerance of the first, so that
// an error names the line where the spacing breaks. The rate comes from
// the whole span, which is less affected by rounding of single times.
func timeRate(times []float64, lines []int) (float64, error) {
	n := len(times)
	dt := times[1] - times[0]
	for i := 1; i < n; i++ {
		step := times[i] - times[i-1]
		// Allow for the rounding of the times themselves: at large GPS
		// times a float64 cannot resolve steps more finely than this.
		ulp := math.Max(ulpOf(times[i]), ulpOf(times[0]))
		if math.Abs(step-dt) > timeTolerance*dt+2*ulp {
			return 0, fmt.Errorf("non-uniform time column at line %d: step %s, expected %s", lines[i], fmtFloat(step), fmtFloat(dt))
		}
	}
	span := times[n-1] - times[0]
	rate := float64(n-1) / span
	if !isFinite(rate) || rate <= 0 {
		return 0, fmt.Errorf("time column from %s to %s does not give a usable sample rate", fmtFloat(times[0]), fmtFloat(times[n-1]))
	}
	return rate, nil
}

func ulpOf(x float64) float64 {
	x = math.Abs(x)
	return math.Nextafter(x, math.Inf(1)) - x
}

func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
