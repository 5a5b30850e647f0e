module github.com/auditrelay/auditrelay

go 1.26

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/hashicorp/go-retryablehttp v0.7.8
	github.com/klauspost/compress v1.20.3
	github.com/vjeantet/grok v1.0.1
)

require github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
