package crmsh

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// token is one word of a statement. Quoting and backslash escapes are
// resolved into text; quoted remembers, per byte of text, whether that byte
// came from inside quotes or an escape, because a quoted "=", ":" or
// keyword is literal text and never syntax.
type token struct {
	text   string
	quoted []bool
	pos    Pos // the word's first character
	end    Pos // just after the word's last character
}

// line is one logical line: a comment, or the words of one statement
// (physical lines joined by trailing backslashes), or the lexical error
// that made the statement unreadable.
type line struct {
	start   Pos
	comment *Comment
	toks    []token
	end     Pos // just after the last character of the statement
	err     *Error
}

// anyQuoted reports whether some byte of the word was quoted or escaped.
func (t *token) anyQuoted() bool {
	for _, q := range t.quoted {
		if q {
			return true
		}
	}
	return false
}

// is reports whether the word is the keyword kw: unquoted and equal but for
// case.
func (t *token) is(kw string) bool {
	return strings.EqualFold(t.text, kw) && !t.anyQuoted()
}

// index is the byte offset of the first unquoted c in the word, or -1.
// An "=" counts quoted or not: crmsh reads `"name=a value"` as a pair,
// since the shell's quotes are gone before it splits the pair.
func (t *token) index(c byte) int {
	if c == '=' {
		return strings.IndexByte(t.text, c)
	}
	for i := 0; i < len(t.text); i++ {
		if t.text[i] == c && !t.quoted[i] {
			return i
		}
	}
	return -1
}

// lastIndex is the byte offset of the last unquoted c in the word, or -1.
func (t *token) lastIndex(c byte) int {
	for i := len(t.text) - 1; i >= 0; i-- {
		if t.text[i] == c && !t.quoted[i] {
			return i
		}
	}
	return -1
}

// endsWith reports whether the word's last byte is an unquoted c.
func (t *token) endsWith(c byte) bool {
	n := len(t.text)
	return n > 0 && t.text[n-1] == c && !t.quoted[n-1]
}

// slice is the part [i:j) of the word as a word of its own, its position
// moved along by the characters cut off the front.
func (t *token) slice(i, j int) token {
	pos := t.pos
	if i > 0 && !strings.Contains(t.text[:i], "\n") {
		pos.Col += utf8.RuneCountInString(t.text[:i])
	}
	end := t.end
	if j < len(t.text) {
		end = pos
		end.Col += utf8.RuneCountInString(t.text[i:j])
	}
	return token{text: t.text[i:j], quoted: t.quoted[i:j], pos: pos, end: end}
}

// describe names the word for an error message.
func (t *token) describe() string { return fmt.Sprintf("%q", t.text) }

// lexer splits crmsh text into logical lines of words. It follows the
// shell's rules as crmsh (through Python's shlex) does: words are separated
// by blanks; "..." and '...' quote, and inside them a backslash escapes the
// quote character and itself; outside quotes a backslash escapes any
// character; a backslash at the end of a physical line continues the
// statement on the next. A line whose first character is # is a comment;
// elsewhere # is an ordinary character (#uname).
type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func lex(src string) []line {
	lx := &lexer{src: src, line: 1, col: 1}
	var out []line
	for {
		lx.skipBlank(true)
		if lx.off >= len(lx.src) {
			return out
		}
		start := lx.pos()
		if lx.src[lx.off] == '#' {
			j := strings.IndexByte(lx.src[lx.off:], '\n')
			if j < 0 {
				j = len(lx.src) - lx.off
			}
			text := strings.TrimRight(lx.src[lx.off+1:lx.off+j], "\r")
			lx.advance(j)
			out = append(out, line{start: start, comment: &Comment{At: start, Text: text}})
			continue
		}
		ln := line{start: start}
		for {
			lx.skipBlank(false)
			if lx.off >= len(lx.src) || lx.src[lx.off] == '\n' {
				break
			}
			tok, err := lx.word()
			if err != nil {
				ln.err = err
				lx.skipLine()
				break
			}
			ln.toks = append(ln.toks, tok)
			ln.end = tok.end
		}
		if ln.err == nil && len(ln.toks) == 0 {
			continue
		}
		out = append(out, ln)
	}
}

func (lx *lexer) pos() Pos { return Pos{Line: lx.line, Col: lx.col} }

// advance moves n bytes on, keeping line and column.
func (lx *lexer) advance(n int) {
	end := lx.off + n
	for lx.off < end {
		r, size := utf8.DecodeRuneInString(lx.src[lx.off:])
		lx.off += size
		if r == '\n' {
			lx.line++
			lx.col = 1
		} else {
			lx.col++
		}
	}
}

// skipBlank skips blanks and backslash-newline continuations, and with
// newlines also line ends.
func (lx *lexer) skipBlank(newlines bool) {
	for lx.off < len(lx.src) {
		switch c := lx.src[lx.off]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			lx.advance(1)
		case c == '\n' && newlines:
			lx.advance(1)
		case c == '\\' && strings.HasPrefix(lx.src[lx.off+1:], "\n"):
			lx.advance(2)
		case c == '\\' && strings.HasPrefix(lx.src[lx.off+1:], "\r\n"):
			lx.advance(3)
		default:
			return
		}
	}
}

// skipLine skips to the end of the physical line after an error.
func (lx *lexer) skipLine() {
	j := strings.IndexByte(lx.src[lx.off:], '\n')
	if j < 0 {
		j = len(lx.src) - lx.off
	}
	lx.advance(j)
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

// word reads one word at the current position.
func (lx *lexer) word() (token, *Error) {
	tok := token{pos: lx.pos()}
	var b strings.Builder
	add := func(s string, quoted bool) {
		b.WriteString(s)
		for range len(s) {
			tok.quoted = append(tok.quoted, quoted)
		}
	}
	for lx.off < len(lx.src) {
		c := lx.src[lx.off]
		if isBlank(c) {
			break
		}
		switch c {
		case '\\':
			rest := lx.src[lx.off+1:]
			if rest == "" {
				add(`\`, false)
				lx.advance(1)
				continue
			}
			if strings.HasPrefix(rest, "\n") || strings.HasPrefix(rest, "\r\n") {
				// A continuation ends the word, as a blank would.
				tok.text, tok.end = b.String(), lx.pos()
				return tok, nil
			}
			_, size := utf8.DecodeRuneInString(rest)
			add(rest[:size], true)
			lx.advance(1 + size)
		case '"', '\'':
			qpos := lx.pos()
			lx.advance(1)
			closed := false
			for lx.off < len(lx.src) {
				d := lx.src[lx.off]
				if d == c {
					lx.advance(1)
					closed = true
					break
				}
				if d == '\\' && lx.off+1 < len(lx.src) {
					e := lx.src[lx.off+1]
					if e == c || e == '\\' {
						add(string(e), true)
						lx.advance(2)
						continue
					}
					if e == '\n' {
						lx.advance(2)
						continue
					}
				}
				_, size := utf8.DecodeRuneInString(lx.src[lx.off:])
				add(lx.src[lx.off:lx.off+size], true)
				lx.advance(size)
			}
			if !closed {
				return tok, &Error{Pos: qpos, Msg: fmt.Sprintf("expected a closing %c for the quote opened here, got end of input", c)}
			}
		default:
			_, size := utf8.DecodeRuneInString(lx.src[lx.off:])
			add(lx.src[lx.off:lx.off+size], false)
			lx.advance(size)
		}
	}
	tok.text, tok.end = b.String(), lx.pos()
	if tok.quoted == nil {
		tok.quoted = []bool{}
	}
	return tok, nil
}

// argTokens makes words of command-line arguments, which the shell has
// already split and unquoted: each argument is one word, taken literally
// but for its keywords, "=" and ":" (so `description=a b` as one argument is
// a description with a space). Columns count through the arguments joined
// by single spaces.
func argTokens(args []string) line {
	ln := line{start: Pos{Line: 1, Col: 1}}
	col := 1
	for _, a := range args {
		n := utf8.RuneCountInString(a)
		t := token{text: a, quoted: make([]bool, len(a)), pos: Pos{Line: 1, Col: col}, end: Pos{Line: 1, Col: col + n}}
		ln.toks = append(ln.toks, t)
		ln.end = t.end
		col += n + 1
	}
	return ln
}
