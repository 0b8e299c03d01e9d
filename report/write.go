package report

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WriteCSV writes every table to w as RFC 4180 CSV (UTF-8, CRLF line ends), each after a
// line "# FILE.csv" and followed by an empty line; WriteCSVDir writes one file per table.
func (rep *Report) WriteCSV(w io.Writer) error {
	for _, t := range rep.Tables {
		if _, err := fmt.Fprintf(w, "# %s.csv\r\n", t.File); err != nil {
			return err
		}
		if err := t.writeCSV(w); err != nil {
			return err
		}
		if _, err := io.WriteString(w, "\r\n"); err != nil {
			return err
		}
	}
	return nil
}

// WriteCSVDir writes each table into dir (created if needed) as FILE.csv, and returns the
// files' names in the order of the tables.
func (rep *Report) WriteCSVDir(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var names []string
	for _, t := range rep.Tables {
		var b bytes.Buffer
		if err := t.writeCSV(&b); err != nil {
			return nil, err
		}
		name := filepath.Join(dir, t.File+".csv")
		if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

func (t *Table) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	head := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		head[i] = c.Name
	}
	cw.Write(head)
	for _, r := range t.Rows {
		rec := make([]string, len(r.Cells))
		for i, c := range r.Cells {
			rec[i] = c.Value
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// jsonReport is the report as JSON: tables of rows, in order.
type jsonReport struct {
	Report string      `json:"report"`
	Title  string      `json:"title"`
	From   string      `json:"from"`
	To     string      `json:"to"`
	Log    jsonLog     `json:"log"`
	Tables []jsonTable `json:"tables"`
	Notes  []string    `json:"notes"`
}

type jsonLog struct {
	Events   int64  `json:"events"`
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
}

type jsonTable struct {
	Name    string       `json:"name"`
	File    string       `json:"file"`
	Title   string       `json:"title"`
	Columns []jsonColumn `json:"columns"`
	Rows    []jsonRow    `json:"rows"`
	Notes   []string     `json:"notes,omitempty"`
}

type jsonColumn struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Figure bool   `json:"figure,omitempty"`
}

type jsonRow struct {
	Key    []string `json:"key"`
	Values []string `json:"values"`
}

// WriteJSON writes the report as one JSON document.
func (rep *Report) WriteJSON(w io.Writer) error {
	out := jsonReport{Report: rep.Name, Title: rep.Title, From: rep.Period.From.Format(time.DateOnly), To: rep.Period.To.Format(time.DateOnly),
		Log: jsonLog{rep.Events, rep.HeadSeq, rep.HeadHash}, Tables: []jsonTable{}, Notes: rep.Notes}
	for _, t := range rep.Tables {
		jt := jsonTable{Name: t.Name, File: t.File, Title: t.Title, Columns: []jsonColumn{}, Rows: []jsonRow{}, Notes: t.Notes}
		for _, c := range t.Columns {
			jt.Columns = append(jt.Columns, jsonColumn{c.ID, c.Name, c.Figure})
		}
		for _, r := range t.Rows {
			vals := make([]string, len(r.Cells))
			for i, c := range r.Cells {
				vals[i] = c.Value
			}
			jt.Rows = append(jt.Rows, jsonRow{Key: r.Key, Values: vals})
		}
		out.Tables = append(out.Tables, jt)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteExplain writes a figure and, one line each, the cases and events it rests on.
func WriteExplain(w io.Writer, f *Figure) error {
	v := f.Value
	if v == "" {
		v = "(empty)"
	}
	fmt.Fprintf(w, "%s = %s\n", f.Path, v)
	if len(f.Refs) == 0 {
		fmt.Fprintln(w, "no case is behind this figure")
	}
	for _, r := range f.Refs {
		evs := make([]string, len(r.Events))
		for i, e := range r.Events {
			evs[i] = fmt.Sprintf("%d %s %s", e.Seq, e.Type, e.At.Format(time.RFC3339))
		}
		fmt.Fprintf(w, "case %s: %s\n", r.Case, strings.Join(evs, "; "))
	}
	return nil
}

// WriteFigures writes every figure's path and value, one per line.
func (rep *Report) WriteFigures(w io.Writer) error {
	for _, f := range rep.Figures() {
		if _, err := fmt.Fprintf(w, "%s\t%s\n", f.Path, f.Value); err != nil {
			return err
		}
	}
	return nil
}

//go:embed report.html
var pageTemplate string

var pageTmpl = template.Must(template.New("report").Parse(pageTemplate))

// htmlTable is a table as the page shows it: the shown columns only.
type htmlTable struct {
	Title string
	File  string
	Head  []string
	Rows  [][]htmlCell
	Notes []string
}

// htmlCell is a cell of the page; figures are aligned right.
type htmlCell struct {
	Value  string
	Figure bool
}

// svgChart is a horizontal bar chart, laid out here in whole numbers and fixed decimals so
// that the same figures draw the same bytes.
type svgChart struct {
	Title  string
	Height int
	Bars   []svgBar
}

type svgBar struct {
	Label, Text, Width, TextX string
	Y, TextY                  int
}

const (
	chartLabel = 220 // width of the labels
	chartBars  = 380 // longest bar
	chartRow   = 24
)

func layout(c *Chart) svgChart {
	out := svgChart{Title: c.Title, Height: max(1, len(c.Bars))*chartRow + 8}
	top := 0.0
	for _, b := range c.Bars {
		top = max(top, b.Value)
	}
	for i, b := range c.Bars {
		w := 0.0
		if top > 0 {
			w = b.Value / top * chartBars
		}
		out.Bars = append(out.Bars, svgBar{Label: b.Label, Text: b.Text, Width: fmt.Sprintf("%.1f", w),
			TextX: fmt.Sprintf("%.1f", chartLabel+w+6), Y: i*chartRow + 4, TextY: i*chartRow + 20})
	}
	return out
}

type htmlPage struct {
	Title    string
	Period   string
	Events   int64
	HeadSeq  int64
	HeadHash string
	Tables   []htmlTable
	Charts   []svgChart
	Notes    []string
	Fragment bool
}

func (rep *Report) page(fragment bool) htmlPage {
	p := htmlPage{Title: rep.Title, Period: rep.Period.From.Format(time.DateOnly) + " to " + rep.Period.To.Format(time.DateOnly),
		Events: rep.Events, HeadSeq: rep.HeadSeq, HeadHash: rep.HeadHash, Notes: rep.Notes, Fragment: fragment}
	for _, c := range rep.Charts {
		if len(c.Bars) > 0 {
			p.Charts = append(p.Charts, layout(c))
		}
	}
	for _, t := range rep.Tables {
		ht := htmlTable{Title: t.Title, File: t.File, Notes: t.Notes}
		var shown []int
		for i, c := range t.Columns {
			if c.Show {
				shown = append(shown, i)
				ht.Head = append(ht.Head, c.Name)
			}
		}
		for _, r := range t.Rows {
			row := make([]htmlCell, len(shown))
			for j, i := range shown {
				row[j] = htmlCell{r.Cells[i].Value, t.Columns[i].Figure}
			}
			ht.Rows = append(ht.Rows, row)
		}
		p.Tables = append(p.Tables, ht)
	}
	return p
}

// WriteHTML writes the report as one HTML page, its styles inline, its charts as SVG.
func (rep *Report) WriteHTML(w io.Writer) error {
	return pageTmpl.ExecuteTemplate(w, "page", rep.page(false))
}

// HTML returns the report's body for another page (the console's): the same as WriteHTML
// writes between <body> and </body>, without styles.
func (rep *Report) HTML() (template.HTML, error) {
	var b bytes.Buffer
	if err := pageTmpl.ExecuteTemplate(&b, "body", rep.page(true)); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // #nosec: rendered by html/template above
}
