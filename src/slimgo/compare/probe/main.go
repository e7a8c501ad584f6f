// Command slimgo-probe reports what an image gives a Go program at run time. slimgo compare builds it
// with each strategy's flags and base, runs it the way the user's program runs, and reads its JSON.
package main

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/user"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"
)

var fileLine = regexp.MustCompile(`main\.go:\d+`)

func panicTrace() (ok bool, trace string) {
	defer func() {
		if r := recover(); r != nil {
			st := string(debug.Stack())
			ok, trace = fileLine.MatchString(st), st
		}
	}()
	var m map[string]int
	m["boom"]++ // the same runtime path as an unrecovered panic's trace
	return false, ""
}

func main() {
	out := map[string]any{}
	errs := map[string]string{}
	if pool, err := x509.SystemCertPool(); err != nil {
		out["ca_roots"], errs["ca_roots"] = false, err.Error()
	} else {
		//lint:ignore SA1019 counting the system roots is the point
		n := len(pool.Subjects()) //nolint:staticcheck
		out["ca_roots"] = n > 0
		if n == 0 {
			errs["ca_roots"] = "no system roots found"
		}
	}
	if loc, err := time.LoadLocation("Asia/Shanghai"); err != nil {
		out["tz"], errs["tz"] = false, err.Error()
	} else {
		out["tz"] = time.Date(2024, 1, 1, 0, 0, 0, 0, loc).Format("-0700") == "+0800"
	}
	if addrs, err := net.LookupHost("localhost"); err != nil {
		out["dns"], errs["dns"] = false, err.Error()
	} else {
		out["dns"] = len(addrs) > 0
	}
	if u, err := user.LookupId(strconv.Itoa(os.Getuid())); err != nil {
		out["user_db"], errs["user_db"] = false, err.Error()
	} else {
		out["user_db"] = u.Username != ""
	}
	ok, trace := panicTrace()
	out["panic_file_line"] = ok
	if !ok {
		errs["panic_file_line"] = trace
	}
	_, err := os.Stat("/bin/sh")
	out["no_shell"] = os.IsNotExist(err)
	out["nonroot"] = os.Getuid() != 0
	out["errors"] = errs
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
