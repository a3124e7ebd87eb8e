"""Go text/template + Sprig v2 vectors (expected values are Go's output)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from engine.core.errors import TemplateError
from engine.golang.texttemplate import expand, parse, standard_functions

ENV = {"FOO": "foo", "BAR": "bar", "IMAGE_NAME": "app"}


def run(text: str, env: dict[str, str] | None = None) -> str:
    return expand(text, ENV if env is None else env, name="envTemplate")


def error_of(text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(TemplateError) as info:
        run(text, env)
    return str(info.value)


# -- skaffold's own vectors (pkg/skaffold/util/env_template_test.go, tag/*_test.go) ----------


@pytest.mark.parametrize(
    ("text", "env", "want"),
    [
        ("{{.FOO}}:{{.BAR}}", {"FOO": "foo", "BAR": "bar"}, "foo:bar"),
        ("{{.FOO}}-{{.BAZ}}:latest", {"FOO": "BAR", "BAZ": "BAT"}, "BAR-BAT:latest"),
        ('{{default "a" .FOO}}:{{.BAR}}', {}, "a:<no value>"),
        ("{{.IMAGE_NAME}}", {"IMAGE_NAME": "foo"}, "foo"),
        ("{{.FOO}}:latest", {}, "<no value>:latest"),
        ("foo-bar", {}, "foo-bar"),
        ("", {}, ""),
    ],
)
def test_skaffold_env_template_vectors(text: str, env: dict[str, str], want: str) -> None:
    assert run(text, env) == want


def test_with_nil_is_an_execution_error() -> None:
    tmpl = parse("{{with $x := nil}}tag{{end}}", name="envTemplate")
    with pytest.raises(TemplateError) as info:
        tmpl.execute({})
    assert str(info.value) == (
        'template: envTemplate:1:13: executing "envTemplate" at <nil>: nil is not a command'
    )


def test_missing_key_error_mode() -> None:
    tmpl = parse("foo-{{.BAR}}", name="customTemplate")
    assert tmpl.execute({"BAR": ""}, missing_key="error") == "foo-"
    with pytest.raises(TemplateError) as info:
        tmpl.execute({"FOO": "2016-02-05"}, missing_key="error")
    assert str(info.value) == (
        'template: customTemplate:1:6: executing "customTemplate" at <.BAR>: '
        'map has no entry for key "BAR"'
    )


def test_fields_like_get_template_fields() -> None:
    tmpl = parse("{{.FOO}}_{{.GIT}}-{{if .X}}{{.FOO}}{{end}}{{.A.B}}", name="customTemplate")
    assert tmpl.fields() == ["FOO", "GIT", "X", "A", "B"]


# -- parse errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        ("{{.FOO", "template: envTemplate:1: unclosed action"),
        ("{{ foo }}", 'template: envTemplate:1: function "foo" not defined'),
        ("{{ get . }}", 'template: envTemplate:1: function "get" not defined'),
        ("{{ end }}", "template: envTemplate:1: unexpected {{end}}"),
        ("{{ if 1 }}", "template: envTemplate:1: unexpected EOF"),
        ("{{}}", "template: envTemplate:1: missing value for command"),
        ("{{ $x }}", 'template: envTemplate:1: undefined variable "$x"'),
        ('{{ .A | "x" }}', "template: envTemplate:1: non executable command in pipeline stage 2"),
        ("{{ .FOO@ }}", "template: envTemplate:1: bad character U+0040 '@'"),
        ('{{ "abc }}', "template: envTemplate:1: unterminated quoted string"),
        ("{{ 3x }}", 'template: envTemplate:1: bad number syntax: "3x"'),
        ("{{ (1 }}", "template: envTemplate:1: unclosed left paren"),
        ("{{/* x", "template: envTemplate:1: unclosed comment"),
        ("{{ break }}", "template: envTemplate:1: {{break}} outside {{range}}"),
        ("a\n{{ .FOO\n", "template: envTemplate:3: unclosed action started at envTemplate:2"),
        (
            "{{if 1}}{{else}}{{else}}{{end}}",
            "template: envTemplate:1: expected end; found {{else}}",
        ),
        ('{{ .A "x"y }}', 'template: envTemplate:1: unexpected "y" in operand'),
        ("{{ 'a }}", "template: envTemplate:1: unterminated character constant"),
        ("{{ '\\", "template: envTemplate:1: unterminated character constant"),
        ("{{ printf@ }}", "template: envTemplate:1: bad character U+0040 '@'"),
        ("{{ $@ }}", "template: envTemplate:1: bad character U+0040 '@'"),
        ("{{ define 1 }}{{ end }}", 'template: envTemplate:1: unexpected "1" in define clause'),
        ('{{ define "a" x }}', 'template: envTemplate:1: unexpected "x" in define clause'),
        (
            '{{ block "b" . }}B{{ else }}{{ end }}',
            "template: envTemplate:1: unexpected {{else}} in block clause",
        ),
        ("{{ template 1 }}", 'template: envTemplate:1: unexpected "1" in template clause'),
        (
            '{{ $y := 1 }}{{ define "x" }}{{ $y }}{{ end }}',
            'template: envTemplate:1: undefined variable "$y"',
        ),
        (
            '{{ define "x" }}a{{ end }}{{ block "x" . }}b{{ end }}',
            'template: envTemplate:1: template: multiple definition of template "x"',
        ),
    ],
)
def test_parse_errors(text: str, msg: str) -> None:
    assert error_of(text) == msg


# -- execution errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        (
            "{{ upper .NOPE }}",
            'template: envTemplate:1:9: executing "envTemplate" at <.NOPE>: '
            "invalid value; expected string",
        ),
        (
            '{{ fail "boom" }}',
            'template: envTemplate:1:3: executing "envTemplate" at <fail "boom">: '
            "error calling fail: boom",
        ),
        (
            "{{ index (list 1) 5 }}",
            'template: envTemplate:1:3: executing "envTemplate" at <index (list 1) 5>: '
            "error calling index: index out of range: 5",
        ),
        (
            "{{ .FOO.BAR }}",
            'template: envTemplate:1:7: executing "envTemplate" at <.FOO.BAR>: '
            "can't evaluate field BAR in type string",
        ),
        (
            '{{ hasKey . "FOO" }}',
            'template: envTemplate:1:10: executing "envTemplate" at <.>: '
            "wrong type for value; expected map[string]interface {}; got map[string]string",
        ),
        (
            '{{ repeat "a" "b" }}',
            'template: envTemplate:1:10: executing "envTemplate" at <"a">: '
            'expected integer; found "a"',
        ),
        (
            "{{ .FOO | trunc }}",
            'template: envTemplate:1:10: executing "envTemplate" at <trunc>: '
            "wrong number of args for trunc: want 2 got 1",
        ),
        (
            '{{ eq 1 "a" }}',
            'template: envTemplate:1:3: executing "envTemplate" at <eq 1 "a">: '
            "error calling eq: incompatible types for comparison",
        ),
        (
            '{{ cmd "sh" "-c" "exit 3" }}',
            'template: envTemplate:1:3: executing "envTemplate" at <cmd "sh" "-c" "exit ...>: '
            'error calling cmd: running [sh -c exit 3]\n - stdout: ""\n - stderr: ""\n'
            " - cause: exit status 3",
        ),
        (  # regexp.MustCompile's panic, with Go's (RE2's) parse error
            '{{ regexFind "a**" "x" }}',
            'template: envTemplate:1:3: executing "envTemplate" at <regexFind "a**" "x">: '
            "error calling regexFind: regexp: Compile(`a**`): error parsing regexp: "
            "invalid nested repetition operator: `**`",
        ),
        (
            '{{ regexSplit "\\\\C" "x" -1 }}',
            'template: envTemplate:1:3: executing "envTemplate" at <regexSplit "\\\\C" "x"...>: '
            "error calling regexSplit: regexp: Compile(`\\C`): error parsing regexp: "
            "invalid escape sequence: `\\C`",
        ),
    ],
)
def test_exec_errors(text: str, msg: str) -> None:
    assert error_of(text) == msg


def test_regex_functions_cannot_hang() -> None:
    # Python's re backtracks exponentially on this; Go's regexp (RE2) is linear
    start = time.monotonic()
    text = '{{ regexMatch "^(a+)+$" (printf "%s!" (repeat 50000 "a")) }}'
    assert run(text) == "false"
    assert run('{{ regexReplaceAll "(x+x+)+y" (repeat 5000 "x") "-" | len }}') == "5000"
    assert time.monotonic() - start < 2


def test_cmd_runs_and_trims() -> None:
    assert run('{{ cmd "echo" " hi " }}') == "hi"
    assert run('{{ cmd "sh" "-c" "echo $FOO" }}') == "foo"


def test_cmd_disabled() -> None:
    funcs = standard_functions(env={}, allow_commands=False)
    with pytest.raises(TemplateError, match=r"^template function cmd is disabled"):
        funcs["cmd"]("echo")
    with pytest.raises(TemplateError, match="disabled"):
        expand('{{ cmd "echo" }}', {}, allow_commands=False)


# -- language ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('{{- " x " -}}', " x "),
        ("a  {{- .FOO -}}  \n b", "afoob"),
        ("a {{- /* c */ -}} b", "ab"),
        ("a{{/* c */}}b", "ab"),
        ("{{3 -}} < {{- 4}}", "3<4"),
        ("{{ range $i, $v := list 1 2 3 }}{{$i}}={{$v}},{{end}}", "0=1,1=2,2=3,"),
        ('{{ range $k, $v := dict "b" 1 "a" 2 }}{{$k}}{{$v}}{{end}}', "a2b1"),
        ("{{ range list }}x{{else}}empty{{end}}", "empty"),
        ("{{ range .NOPE }}x{{else}}none{{end}}", "none"),
        ("{{ range 3 }}{{.}}{{end}}", "012"),
        (
            '{{ range $i, $e := list "a" "b" "c" }}{{if eq $i 1}}{{continue}}{{end}}{{$e}}{{end}}',
            "ac",
        ),
        ('{{ range $i, $e := list "a" "b" }}{{if eq $i 1}}{{break}}{{end}}{{$e}}{{end}}', "a"),
        ('{{ if eq .FOO "foo" }}yes{{else}}no{{end}}', "yes"),
        ("{{ if .NOPE }}a{{ else if .FOO }}b{{ else }}c{{ end }}", "b"),
        ("{{ with .FOO }}{{.}}{{end}}", "foo"),
        ("{{ with .NOPE }}x{{else}}y{{end}}", "y"),
        ("{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", "2"),
        ("{{ $x := .FOO }}{{ with .BAR }}{{ $x }}{{ $.IMAGE_NAME }}{{ end }}", "fooapp"),
        ('{{ define "x" }}X{{.}}{{ end }}{{ template "x" .FOO }}', "Xfoo"),
        ('{{ block "b" .BAR }}[{{.}}]{{ end }}', "[bar]"),
        ('{{ index . "NOPE" }}|{{ index . "FOO" }}', "|foo"),
        ("{{ len .FOO }} {{ len (list 1 2) }}", "3 2"),
        ('{{ and 1 0 2 }} {{ or 0 "" "z" }} {{ not 0 }} {{ and 1 2 }}', "0 z true 2"),
        (
            '{{ eq .FOO "x" "foo" }} {{ ne 1 2 }} {{ lt 1 2 }} {{ ge "b" "a" }}',
            "true true true true",
        ),
        (
            "{{ 1.0 }} {{ 1e6 }} {{ 3 }} {{ .5 }} {{ 0x1F }} {{ 017 }} {{ 'a' }}",
            "1 1e+06 3 0.5 31 15 97",
        ),
        (
            "{{ 1.5e-7 }} {{ 123456.0 }} {{ 1234567.0 }} {{ -0.0001 }}",
            "1.5e-07 123456 1.234567e+06 -0.0001",
        ),
        ('{{ "a\\tb" }}|{{ `raw\\n` }}|{{ "\\u00e9\\x41" }}', "a\tb|raw\\n|éA"),
        ("{{ true }} {{ false }} {{ print nil }}", "true false <nil>"),
        ('{{ list 1 "a" nil }} {{ dict "a" 1 "b" (list 1 2) }}', "[1 a <nil>] map[a:1 b:[1 2]]"),
        ("{{ . }}", "map[BAR:bar FOO:foo IMAGE_NAME:app]"),
        ('{{ print 1 2 "a" "b" 3 }}|{{ println "x" 1 }}', "1 2ab3|x 1\n"),
        (
            '{{ printf "%s-%05d-%.2f|%5s|%-5s|%%|%t" .FOO 42 3.14159 "a" "b" true }}',
            "foo-00042-3.14|    a|b    |%|true",
        ),
        (
            '{{ printf "%v %q %x %X %T %d" (list "a") "q" 255 "hi" .FOO "s" }}',
            '[a] "q" ff 6869 string %!d(string=s)',
        ),
        (
            '{{ printf "%s %s" "a" }}|{{ printf "%s" "a" "b" }}',
            "a %!s(MISSING)|a%!(EXTRA string=b)",
        ),
        ('{{ 1 | printf "%d-%d" 2 }}', "2-1"),
        (
            '{{ html "<a&\'b>" }} {{ js "a\'b<" }} {{ urlquery "a b&c" }}',
            "&lt;a&amp;&#39;b&gt; a\\'b\\u003C a+b%26c",
        ),
        ('{{ (list 1 2 3) | last }} {{ (dict "a" "x").a }}', "3 x"),
    ],
)
def test_language(text: str, want: str) -> None:
    assert run(text) == want


def test_plain_parse_has_only_builtins() -> None:
    with pytest.raises(TemplateError, match='function "upper" not defined'):
        parse("{{ upper .X }}", name="customTemplate")
    assert parse("{{ slice .X 1 }}", name="t").execute({"X": "abc"}) == "bc"


# -- sprig ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('{{ default "d" "" }} {{ default "d" "v" }} {{ .NOPE | default "x" }}', "d v x"),
        ('{{ empty "" }} {{ empty 0 }} {{ empty (list) }} {{ empty "a" }}', "true true true false"),
        ('{{ coalesce "" .NOPE "z" }} {{ ternary "y" "n" false }}', "z n"),
        (
            '{{ upper "ab" }} {{ lower "AB" }} {{ title "hello wOrld" }} {{ untitle "Hello World" }}',  # noqa: E501
            "AB ab Hello WOrld hello world",
        ),
        (
            '{{ trim "  x " }} {{ trimAll "$" "$$x$" }} {{ trimPrefix "a" "ab" }} {{ trimSuffix ".go" "a.go" }}',  # noqa: E501
            "x x b a",
        ),
        ('{{ trunc 2 "abc" }} {{ trunc 5 "abc" }} {{ abbrev 5 "hello world" }}', "ab abc he..."),
        (
            '{{ substr 1 3 "hello" }} {{ substr 0 -1 "hello" }} {{ repeat 3 "ab" }}',
            "el hello ababab",
        ),
        (
            '{{ replace "a" "b" "aaa" }} {{ contains "ell" "hello" }} {{ hasPrefix "he" "hello" }} {{ hasSuffix "x" "hello" }}',  # noqa: E501
            "bbb true true false",
        ),
        ('{{ "a" | quote }} {{ squote "b" 1 }} {{ quote "x\\"y" }}', '"a" \'b\' \'1\' "x\\"y"'),
        (
            '{{ cat "a" 1 nil "b" }}|{{ indent 2 "x\\ny" }}|{{ nindent 2 "z" }}',
            "a 1 b|  x\n  y|\n  z",
        ),
        ('{{ nospace " a b " }} {{ initials "Hello World" }} {{ swapcase "aB" }}', "ab HW Ab"),
        (
            '{{ "HTTPServer" | snakecase }} {{ "FirstName" | kebabcase }} {{ "http_server" | camelcase }}',  # noqa: E501
            "http_server first-name httpServer",
        ),
        (
            '{{ "Bld4Floor3rd" | snakecase }} {{ "HTTP20xOK" | snakecase }} {{ "GO PATH" | snakecase }}',  # noqa: E501
            "bld4_floor_3rd http_20x_ok go_path",
        ),
        (
            '{{ split "/" "a/b/c" }} {{ (split "/" "a/b")._1 }} {{ splitList "," "a,b" }}',
            "map[_0:a _1:b _2:c] b [a b]",
        ),
        (
            '{{ join "-" (list "a" 1 nil) }} {{ toStrings (list 1 2) }} {{ toString 1.5 }}',
            "a-1 [1 2] 1.5",
        ),
        (
            '{{ atoi "42" }} {{ atoi "x" }} {{ int "7" }} {{ int64 3.9 }} {{ float64 "1.5" }}',
            "42 0 7 3 1.5",
        ),
        (
            "{{ add 1 2 3 }} {{ add1 .NOPE }} {{ sub 5 7 }} {{ mul 2 3 4 }} {{ div 7 -2 }} {{ mod -7 3 }}",  # noqa: E501
            "6 1 -2 24 -3 -1",
        ),
        (
            '{{ max 1 5 3 }} {{ min 4 "2" }} {{ ceil 1.2 }} {{ floor 1.8 }} {{ round 2.555 2 }}',
            "5 2 2 1 2.56",
        ),
        ("{{ until 3 }} {{ untilStep 0 10 3 }}", "[0 1 2] [0 3 6 9]"),
        (
            "{{ first (list 1 2) }} {{ last (list 1 2) }} {{ rest (list 1 2 3) }} {{ initial (list 1 2 3) }}",  # noqa: E501
            "1 2 [2 3] [1 2]",
        ),
        (
            "{{ append (list 1) 2 }} {{ prepend (list 1) 0 }} {{ reverse (list 1 2) }} {{ first (list) }}",  # noqa: E501
            "[1 2] [0 1] [2 1] <no value>",
        ),
        (
            '{{ uniq (list 1 1 2) }} {{ without (list 1 2 3) 2 }} {{ has 2 (list 1 2) }} {{ compact (list 1 "" 0 2) }}',  # noqa: E501
            "[1 2] [1 3] true [1 2]",
        ),
        (
            '{{ sortAlpha (list "b" "a" "C") }} {{ slice (list 1 2 3) 1 2 }} {{ concat (list 1) (list 2) }}',  # noqa: E501
            "[C a b] [2] [1 2]",
        ),
        (
            '{{ keys (dict "b" 1 "a" 2) | sortAlpha | join "," }} {{ pick (dict "a" 1 "b" 2) "a" }} {{ omit (dict "a" 1 "b" 2) "a" }}',  # noqa: E501
            "a,b map[a:1] map[b:2]",
        ),
        (
            '{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ $d }} {{ hasKey $d "a" }} {{ unset $d "a" }}',  # noqa: E501
            "map[a:1 b:2] true map[b:2]",
        ),
        (
            '{{ values (dict "a" 1 "b" 2) }} {{ pluck "a" (dict "a" 1) (dict "a" 2) }} {{ dict "k" }}',  # noqa: E501
            "[1 2] [1 2] map[k:]",
        ),
        (
            '{{ merge (dict "a" 1) (dict "a" 2 "b" 3) }} {{ mergeOverwrite (dict "a" 1) (dict "a" 2) }}',  # noqa: E501
            "map[a:1 b:3] map[a:2]",
        ),
        (
            '{{ sha1sum "x" }} {{ sha256sum "x" | trunc 8 }} {{ adler32sum "x" }}',
            "11f6ad8ec52a2984abaafd7c3b516503785c2072 2d711642 7929977",
        ),
        (
            '{{ b64enc "hi" }} {{ b64dec "aGk=" }} {{ b32enc "hi" }} {{ b32dec "NBUQ====" }}',
            "aGk= hi NBUQ==== hi",
        ),
        (
            '{{ base "/a/b.txt" }} {{ dir "/a/b.txt" }} {{ ext "x.tar.gz" }} {{ clean "a//b/../c" }} {{ isAbs "/x" }}',  # noqa: E501
            "b.txt /a .gz a/c true",
        ),
        ('{{ base "" }} {{ base "/" }} {{ dir "a" }} {{ clean "/../a/" }}', ". / . /a"),
        (
            '{{ regexMatch "^[[:alpha:]]+$" "abc" }} {{ regexMatch "(" "x" }} {{ regexFind "[0-9]+$" "a12" }}',  # noqa: E501
            "true false 12",
        ),
        (
            '{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} {{ regexReplaceAll "a*" "baaac" "X" }}',  # noqa: E501
            "-W-xxW- XbXcX",
        ),
        (
            '{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "$1W" }} {{ regexReplaceAllLiteral "a(x*)b" "-ab-" "$1" }}',  # noqa: E501
            "--- -$1-",
        ),
        (
            '{{ regexSplit "z+" "pizza" -1 }} {{ regexFindAll "a." "paranormal" 2 }} {{ regexFind "x$" "x\\n" }}|',  # noqa: E501
            "[pi a] [ar an] |",
        ),
        (  # Go's regexp syntax (RE2), not Python's re
            '{{ regexMatch "^[[:digit:]]+$" "123" }} {{ regexFind "\\\\pL+" "1héllo2" }} {{ regexMatch "a\\\\z" "a\\n" }} {{ regexReplaceAll "(?<y>\\\\d+)" "v12" "<${y}>" }}',  # noqa: E501
            "true héllo false v<12>",
        ),
        (
            '{{ regexFindAll "x" "abc" -1 }} {{ regexSplit "a" "banana" 0 }} {{ regexReplaceAll "$" "ab" "!" }}',  # noqa: E501
            "[] [] ab!",
        ),
        (
            '{{ typeOf . }} {{ typeOf 1 }} {{ typeOf 1.5 }} {{ kindOf (list) }} {{ typeOf (splitList "," "a") }}',  # noqa: E501
            "map[string]string int float64 slice []string",
        ),
        (
            '{{ kindIs "string" "x" }} {{ deepEqual (list 1) (list 1) }} {{ typeOf (dict) }}',
            "true true map[string]interface {}",
        ),
        (
            '{{ expandenv "$FOO-${BAR}-$NOPE-$" }} {{ env "FOO" }} {{ env "NOPE" }}|',
            "foo-bar--$ foo |",
        ),
        (
            '{{ toJson (dict "a" "<b>" "n" 1.5 "l" (list 1 nil true)) }}',
            '{"a":"\\u003cb\\u003e","l":[1,null,true],"n":1.5}',
        ),
        (
            '{{ toPrettyJson (dict "a" (list 1) "b" (dict)) }}',
            '{\n  "a": [\n    1\n  ],\n  "b": {}\n}',
        ),
        (
            '{{ semverCompare ">=1.2.0" "1.3.0" }} {{ semverCompare "^1.2" "2.0.0" }} {{ semverCompare "~1.2.x" "1.2.9" }}',  # noqa: E501
            "true false true",
        ),
        (
            '{{ semverCompare "1.2 - 1.4" "1.3.0" }} {{ semverCompare ">1.0.0" "1.1.0-beta" }} {{ semver "v1.2" }}',  # noqa: E501
            "true false 1.2.0",
        ),
        ('{{ (semver "1.2.3-beta").Major }} {{ (semver "1.2.3-beta").Prerelease }}', "1 beta"),
        (
            '{{ date "2006-01-02 15:04:05" 0 | len }} {{ dateInZone "2006-01-02T15:04:05Z07:00 Mon Jan _2 3PM" 86400 "UTC" }}',  # noqa: E501
            "19 1970-01-02T00:00:00Z Fri Jan  2 12AM",
        ),
        (
            '{{ unixEpoch (toDate "2006-01-02T15:04:05Z07:00" "2020-01-01T00:00:00Z") }}',
            "1577836800",
        ),
        ('{{ toDate "2006-01-02" "bad" }}', "0001-01-01 00:00:00 +0000 UTC"),
        # An offset that is not Local's gives Go a FixedZone without a name.
        (
            '{{ toDate "2006-01-02T15:04:05.000Z07:00" "2020-01-01T00:00:00.105+01:23" }}',
            "2020-01-01 00:00:00.105 +0123 +0123",
        ),
        (
            '{{ (toDate "2006-01-02T15:04:05.000Z07:00" "2020-01-01T00:00:00.105+01:23").Format'
            ' ".99 MST Jan Monday" }}',
            ".1 +0123 Jan Wednesday",
        ),
        ('{{ clean "a//b/../c/." }} {{ dir "/a/b/" }} {{ clean "../../x" }}', "a/c /a/b ../../x"),
        (
            '{{ uuidv4 | len }} {{ randAlphaNum 8 | len }} {{ randNumeric 3 | regexMatch "^[0-9]{3}$" }}',  # noqa: E501
            "36 8 true",
        ),
    ],
)
def test_sprig(text: str, want: str) -> None:
    assert run(text) == want


def test_now_is_recent() -> None:
    year = run('{{ now | date "2006" }}')
    assert abs(int(year) - dt.datetime.now().year) <= 1
    assert run("{{ now.Year }}") == year


def test_helm_style_values_templates() -> None:
    env = {"IMAGE_REPO_app": "gcr.io/p/app", "IMAGE_TAG_app": "v1@sha256:abc"}
    text = "{{.IMAGE_REPO_app}}:{{.IMAGE_TAG_app}}"
    assert expand(text, env) == "gcr.io/p/app:v1@sha256:abc"


@pytest.mark.parametrize("name", ["mustRegexMatch", "mustRegexFind", "regexQuoteMeta"])
def test_sprig_v3_regex_functions_are_not_defined(name: str) -> None:
    # skaffold vendors Sprig v2.22 (go.mod), whose regex.go has no must* variants
    assert error_of(f'{{{{ {name} "a" "a" }}}}') == (
        f'template: envTemplate:1: function "{name}" not defined'
    )
