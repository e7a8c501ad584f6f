// Command hello is slimgo's bundled example: a small HTTP service that needs
// TLS roots and time zones at run time, so that an image missing either shows it.
package main

import (
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/user"
	"time"
)

// selfCheck reports what the image gives the program: the facts slimgo's
// static base promises (TLS roots, zoneinfo, non-root user, writable /tmp,
// no shell).
type selfCheck struct {
	CARoots     int    `json:"ca_roots"`
	Shanghai    string `json:"asia_shanghai"`
	UID         int    `json:"uid"`
	User        string `json:"user"`
	TmpWritable bool   `json:"tmp_writable"`
	ShellAbsent bool   `json:"shell_absent"`
}

func check() selfCheck {
	var c selfCheck
	if pool, err := x509.SystemCertPool(); err == nil {
		//lint:ignore SA1019 the count of system roots is exactly what we want to see
		c.CARoots = len(pool.Subjects()) //nolint:staticcheck
	}
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		c.Shanghai = time.Date(2024, 1, 1, 0, 0, 0, 0, loc).Format("MST -0700")
	}
	c.UID = os.Getuid()
	if u, err := user.Current(); err == nil {
		c.User = u.Username
	}
	if f, err := os.CreateTemp("/tmp", "hello-*"); err == nil {
		c.TmpWritable = true
		f.Close()
		os.Remove(f.Name())
	}
	_, err := os.Stat("/bin/sh")
	c.ShellAbsent = os.IsNotExist(err)
	return c
}

func crash() {
	var m map[string]int
	m["boom"]++ // panics: assignment to entry in nil map
}

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	doCheck := flag.Bool("check", false, "print the self-check as JSON and exit")
	doPanic := flag.Bool("panic", false, "panic, to show the trace keeps file:line")
	flag.Parse()

	switch {
	case *doPanic:
		crash()
	case *doCheck:
		out, _ := json.Marshal(check())
		fmt.Println(string(out))
		return
	}

	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.UTC
		}
		fmt.Fprintf(w, "hello from slimgo at %s\n", time.Now().In(loc).Format(time.RFC3339))
	})
	http.HandleFunc("/check", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(check())
	})
	log.Printf("listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
