// Sends events to chgate with Go's standard library only (Debian: golang-go).
//
//	go run . -url http://127.0.0.1:8080 -table events [-token T] [-count N]
//
// It checks chgate is up (GET /ping), then posts N events as NDJSON to
// /v1/events/{table} in requests of -batch events, over one keep-alive
// connection. A 429 or 503 is tried again after the answer's Retry-After;
// any other refusal stops with its error. It prints one line of JSON:
// {"sent": N, "requests": R, "retried": K}.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

type event struct {
	ID     int    `json:"id"`
	Source string `json:"source"`
	Shape  string `json:"shape"`
}

type sender struct {
	client   *http.Client
	endpoint string
	token    string
	requests int
	retried  int
}

// post sends one body, retrying 429 and 503 as chgate asks.
func (s *sender) post(body []byte) error {
	for attempt := 1; attempt <= 20; attempt++ {
		req, err := http.NewRequest(http.MethodPost, s.endpoint, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-ndjson")
		if s.token != "" {
			req.Header.Set("Authorization", "Bearer "+s.token)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return err
		}
		answer, _ := io.ReadAll(resp.Body) // read to the end, so the connection is reused
		resp.Body.Close()
		s.requests++
		switch {
		case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusAccepted:
			return nil
		case resp.StatusCode == http.StatusTooManyRequests ||
			resp.StatusCode == http.StatusServiceUnavailable:
			s.retried++
			wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if err != nil || wait < 1 {
				wait = 1
			}
			time.Sleep(time.Duration(wait) * time.Second)
		default:
			return fmt.Errorf("%d: %s", resp.StatusCode, strings.TrimSpace(string(answer)))
		}
	}
	return fmt.Errorf("still refused after 20 attempts")
}

func run() error {
	url := flag.String("url", "http://127.0.0.1:8080", "chgate's address")
	table := flag.String("table", "events", "the table to send to")
	token := flag.String("token", "", "a token of auth.tokens, if chgate needs one")
	count := flag.Int("count", 100, "events to send")
	batch := flag.Int("batch", 25, "events per request")
	flag.Parse()

	client := &http.Client{Timeout: 30 * time.Second}
	base := strings.TrimRight(*url, "/")
	ping, err := client.Get(base + "/ping")
	if err != nil {
		return err
	}
	io.Copy(io.Discard, ping.Body)
	ping.Body.Close()
	if ping.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /ping: %d", ping.StatusCode)
	}

	s := &sender{client: client, endpoint: base + "/v1/events/" + *table, token: *token}
	for start := 0; start < *count; start += *batch {
		var body bytes.Buffer
		enc := json.NewEncoder(&body) // one object per line: NDJSON
		for i := start; i < start+*batch && i < *count; i++ {
			if err := enc.Encode(event{ID: i, Source: "go-net-http", Shape: "ndjson"}); err != nil {
				return err
			}
		}
		if err := s.post(body.Bytes()); err != nil {
			return err
		}
	}
	out, _ := json.Marshal(map[string]int{"sent": *count, "requests": s.requests, "retried": s.retried})
	fmt.Println(string(out))
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "chgate-go-example:", err)
		os.Exit(1)
	}
}
