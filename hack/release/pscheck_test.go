package main

import (
	"fmt"
	"strings"
)

// psCheck is a PowerShell sanity check for a machine without PowerShell:
// strings, here-strings, braced variables and block comments end, and
// parentheses, braces and brackets balance outside strings and comments.
// It lexes what matters for that: '...' and "..." (a doubled quote
// escapes one; in "...", so do backticks, and $(...) subexpressions hold
// code), here-strings @'...'@ and @"..."@ (whose end must start a line,
// as Windows PowerShell requires), # and <# #> comments, and backtick
// escapes.
func psCheck(src string) error {
	l := &psLexer{src: src, line: 1}
	return l.code(false)
}

type psLexer struct {
	src  string
	pos  int
	line int
}

type opener struct {
	ch   byte
	line int
}

var closerOf = map[byte]byte{'(': ')', '{': '}', '[': ']'}

func (l *psLexer) rest() string { return l.src[l.pos:] }

// escape skips a backtick and the character it escapes.
func (l *psLexer) escape() {
	l.pos++
	if l.pos < len(l.src) {
		if l.src[l.pos] == '\n' {
			l.line++
		}
		l.pos++
	}
}

// skipTo moves past the next end, counting lines; false when there is none.
func (l *psLexer) skipTo(end string) bool {
	i := strings.Index(l.rest(), end)
	if i < 0 {
		return false
	}
	l.line += strings.Count(l.src[l.pos:l.pos+i], "\n")
	l.pos += i + len(end)
	return true
}

// commentStart reports whether a # at the position starts a comment: it
// does where a token starts, not inside a word such as a#b.
func (l *psLexer) commentStart() bool {
	return l.pos == 0 || strings.IndexByte(" \t\r\n;(){}[]|&,=", l.src[l.pos-1]) >= 0
}

// code lexes code to the end of the source or, for a subexpression
// (sub), up to the parenthesis that closes its "$(".
func (l *psLexer) code(sub bool) error {
	var stack []opener
	if sub {
		stack = append(stack, opener{'(', l.line})
	}
	for l.pos < len(l.src) {
		c, rest := l.src[l.pos], l.rest()
		switch {
		case c == '\n':
			l.line++
			l.pos++
		case c == '`':
			l.escape()
		case strings.HasPrefix(rest, "<#"):
			start := l.line
			if !l.skipTo("#>") {
				return fmt.Errorf("line %d: block comment <# is never closed", start)
			}
		case c == '#' && l.commentStart():
			if !l.skipTo("\n") {
				l.pos = len(l.src)
			} else {
				l.pos--
			}
		case strings.HasPrefix(rest, "@'") || strings.HasPrefix(rest, `@"`):
			if err := l.hereString(rest[1]); err != nil {
				return err
			}
		case c == '\'' || c == '"':
			l.pos++
			if err := l.str(c, l.line); err != nil {
				return err
			}
		case strings.HasPrefix(rest, "${"):
			start := l.line
			if !l.skipTo("}") {
				return fmt.Errorf("line %d: braced variable ${ is never closed", start)
			}
		case c == '(' || c == '{' || c == '[':
			stack = append(stack, opener{c, l.line})
			l.pos++
		case c == ')' || c == '}' || c == ']':
			if len(stack) == 0 {
				return fmt.Errorf("line %d: %q closes nothing", l.line, c)
			}
			top := stack[len(stack)-1]
			if closerOf[top.ch] != c {
				return fmt.Errorf("line %d: %q closes %q of line %d", l.line, c, top.ch, top.line)
			}
			stack = stack[:len(stack)-1]
			l.pos++
			if sub && len(stack) == 0 {
				return nil
			}
		default:
			l.pos++
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return fmt.Errorf("line %d: %q is never closed", top.line, top.ch)
	}
	return nil
}

// str lexes a string after its opening quote q.
func (l *psLexer) str(q byte, start int) error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == q && l.pos+1 < len(l.src) && l.src[l.pos+1] == q:
			l.pos += 2 // '' or "": an escaped quote
		case c == q:
			l.pos++
			return nil
		case c == '\n':
			l.line++
			l.pos++
		case q == '"' && c == '`':
			l.escape()
		case q == '"' && strings.HasPrefix(l.rest(), "$("):
			l.pos += 2
			if err := l.code(true); err != nil {
				return err
			}
		default:
			l.pos++
		}
	}
	return fmt.Errorf("line %d: string %c is never closed", start, q)
}

// hereString lexes @'...'@ or @"..."@ from its "@": the opening ends its
// line, the closing starts one.
func (l *psLexer) hereString(q byte) error {
	start := l.line
	l.pos += 2
	for l.pos < len(l.src) && (l.src[l.pos] == ' ' || l.src[l.pos] == '\t' || l.src[l.pos] == '\r') {
		l.pos++
	}
	if l.pos >= len(l.src) || l.src[l.pos] != '\n' {
		return fmt.Errorf("line %d: here-string @%c must end its line", start, q)
	}
	l.line++
	l.pos++
	end := string(q) + "@"
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case l.src[l.pos-1] == '\n' && strings.HasPrefix(l.rest(), end):
			l.pos += 2
			return nil
		case c == '\n':
			l.line++
			l.pos++
		case q == '"' && c == '`':
			l.escape()
		case q == '"' && strings.HasPrefix(l.rest(), "$("):
			l.pos += 2
			if err := l.code(true); err != nil {
				return err
			}
		default:
			l.pos++
		}
	}
	return fmt.Errorf("line %d: here-string @%c is never closed by %s at the start of a line", start, q, end)
}
