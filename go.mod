module github.com/auditrelay/auditrelay

go 1.26

require github.com/BurntSushi/toml v1.6.0

require (
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	github.com/vjeantet/grok v1.0.1 // indirect
)
