module slimgo.dev/probe

go 1.21
