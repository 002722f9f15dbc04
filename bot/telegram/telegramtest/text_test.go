package telegramtest

import "testing"

func TestParseHTML(t *testing.T) {
	tests := []struct{ in, plain, problem string }{
		{`<b>a</b> <i><u>b</u></i> <a href="https://x.cz/?a=1&b=2">c</a>`, "a b c", ""},
		{`&lt;tag&gt; &amp; &quot; &#233; &#x1F44B; &nbsp; & x`, `<tag> & " é 👋 &nbsp; & x`, ""},
		{`<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler><blockquote expandable>q</blockquote>`, "stq", ""},
		{`<B>upper</B>`, "upper", ""},
		{`<a href="x>y">z</a>`, "z", ""},
		{`a<br>b`, "", `Unsupported start tag "br" at byte offset 1`},
		{`a < b`, "", `Unsupported start tag "" at byte offset 2`},
		{`<b>x</i>`, "", `Unmatched end tag at byte offset 4, expected "</b>", found "</i>"`},
		{`x</b>`, "", `Unexpected end tag at byte offset 1`},
		{`<b>x`, "", `Can't find end tag corresponding to start tag "b"`},
		{`<a href="x`, "", `Unclosed start tag at byte offset 0`},
	}
	for _, tt := range tests {
		plain, problem := parseHTML(tt.in)
		if plain != tt.plain || problem != tt.problem {
			t.Errorf("parseHTML(%q) = %q, %q; want %q, %q", tt.in, plain, problem, tt.plain, tt.problem)
		}
	}
}

func TestParseMarkdownV2(t *testing.T) {
	tests := []struct{ in, plain, problem string }{
		{`*tučně* _kurzíva_ __podtržení__ ~škrt~ ||spoiler||`, "tučně kurzíva podtržení škrt spoiler", ""},
		{`[odkaz](https://x.cz/a-b.c?d=e) \. \! \-`, "odkaz . ! -", ""},
		{"`kód: a.b-c` ```go\nx := 1.5```", "kód: a.b-c x := 1.5", ""},
		{">citace\n**>rozbalitelná||", "citace\nrozbalitelná", ""},
		{`Díky!`, "", `Character '!' is reserved and must be escaped with the preceding '\'`},
		{`1-2`, "", `Character '-' is reserved and must be escaped with the preceding '\'`},
		{`(závorka)`, "", `Character '(' is reserved and must be escaped with the preceding '\'`},
		{`a > b`, "", `Character '>' is reserved and must be escaped with the preceding '\'`},
	}
	for _, tt := range tests {
		plain, problem := parseMarkdownV2(tt.in)
		if problem != tt.problem || (problem == "" && plain != tt.plain) {
			t.Errorf("parseMarkdownV2(%q) = %q, %q; want %q, %q", tt.in, plain, problem, tt.plain, tt.problem)
		}
	}
}
