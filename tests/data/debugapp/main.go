// Command debugapp is the program slimgo's debugger tests stop in: an HTTP handler with a local
// variable whose value the test reads back through the Debug Adapter Protocol.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
)

func greet(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/greet/")
	greeting := "hello, " + name // BREAK: the tests set a breakpoint on this line
	fmt.Fprintln(w, greeting)
}

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	flag.Parse()
	http.HandleFunc("/greet/", greet)
	// Bind first, then say so: the tests wait for this line, so it must mean the socket accepts.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("debugapp listening on %s", *addr)
	log.Fatal(http.Serve(ln, nil))
}
