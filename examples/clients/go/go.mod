module chgate.example/go-client

go 1.19
