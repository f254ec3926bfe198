package gwf

import (
	"bytes"
	"encoding/binary"
	"math"
)

// cursor reads the fields of one structure. A read past the end sets short
// and yields zero values, so a parser reads every field and checks once.
type cursor struct {
	b     []byte
	pos   int
	order binary.ByteOrder
	short bool
}

func (c *cursor) take(n int) []byte {
	if c.short || n < 0 || n > len(c.b)-c.pos {
		c.short = true
		return nil
	}
	p := c.b[c.pos : c.pos+n]
	c.pos += n
	return p
}

func (c *cursor) rest() int { return len(c.b) - c.pos }

func (c *cursor) u16() uint16 {
	if p := c.take(2); !c.short {
		return c.order.Uint16(p)
	}
	return 0
}

func (c *cursor) u32() uint32 {
	if p := c.take(4); !c.short {
		return c.order.Uint32(p)
	}
	return 0
}

func (c *cursor) u64() uint64 {
	if p := c.take(8); !c.short {
		return c.order.Uint64(p)
	}
	return 0
}

func (c *cursor) i32() int32   { return int32(c.u32()) }
func (c *cursor) f32() float32 { return math.Float32frombits(c.u32()) }
func (c *cursor) f64() float64 { return math.Float64frombits(c.u64()) }

// str reads a STRING: a 2-byte length counting the bytes that follow,
// which end in one or more NULs. The text stops at the first NUL.
func (c *cursor) str() string {
	n := int(c.u16())
	p := c.take(n)
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	return string(p)
}

// ptr is a PTR_STRUCT: the class and instance of the structure pointed to;
// class 0 is a null pointer.
type ptr struct {
	class uint16
	inst  uint32
}

func (c *cursor) ptr() ptr { return ptr{class: c.u16(), inst: c.u32()} }
