package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
)

// pageLines is how many lines the embedded server's page has: as many as the
// page the seed fetched ("got 624 lines").
const pageLines = 624

// startPageServer starts the embedded HTTP server on 127.0.0.1, which serves
// one page of pageLines lines.
func startPageServer() *httptest.Server {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<title>threadrunner and JavaScript</title>\n")
	for i := 3; i < pageLines; i++ {
		fmt.Fprintf(&b, "<p>line %d of %d: a JavaScript library, used from sync Go — ✓</p>\n", i, pageLines)
	}
	b.WriteString("</html>\n")
	page := []byte(b.String())
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
}
