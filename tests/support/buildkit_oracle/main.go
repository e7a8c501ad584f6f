// Command oracle reports whether BuildKit's Dockerfile parser (and its instruction parser) accepts each file.
package main

import (
	"fmt"
	"os"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func check(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		return err
	}
	_, _, err = instructions.Parse(res.AST, nil)
	return err
}

func main() {
	for _, p := range os.Args[1:] {
		if err := check(p); err != nil {
			fmt.Printf("REJECT\t%s\t%v\n", p, err)
		} else {
			fmt.Printf("OK\t%s\n", p)
		}
	}
}
