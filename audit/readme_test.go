package audit

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeVerifier keeps the verifier the README shows identical to the
// one the tests run.
func TestReadmeVerifier(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("testdata/verify_chain.py")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```python\n"+string(script)+"```\n") {
		t.Error("README.md does not show testdata/verify_chain.py as it is")
	}
}
