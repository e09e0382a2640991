// The Go side of bench/client_cache.py: GetAuthHeaders through the Go client, cached or not, from
// `callers` goroutines for `seconds`; prints {"calls", "seconds", "p50_us"} as one JSON line.
// client_cache_go <address> <tenant> <connection> <cached 0|1> <callers> <seconds>
package main

import (
	"context"
	"encoding/json"
	"log"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/credvault/credvault/clients/go/credvault"
	credvaultv1 "github.com/credvault/credvault/clients/go/credvault/v1"
)

func main() {
	args := os.Args[1:]
	callers, _ := strconv.Atoi(args[4])
	seconds, _ := strconv.ParseFloat(args[5], 64)
	ctx := context.Background()
	client, err := credvault.Dial(ctx, args[0], credvault.Options{Insecure: true, CacheAuthHeaders: args[3] == "1"})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	request := &credvaultv1.GetAuthHeadersRequest{TenantId: args[1], ConnectionId: args[2]}
	if _, err := client.GetAuthHeaders(ctx, request); err != nil {
		log.Fatal(err)
	}
	began := time.Now()
	until := began.Add(time.Duration(seconds * float64(time.Second)))
	var mu sync.Mutex
	var latencies []float64
	var wg sync.WaitGroup
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]float64, 0, 1<<16)
			for {
				start := time.Now()
				if !start.Before(until) {
					break
				}
				if _, err := client.GetAuthHeaders(ctx, request); err != nil {
					log.Fatal(err)
				}
				mine = append(mine, float64(time.Since(start).Nanoseconds())/1000)
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(began).Seconds()
	sort.Float64s(latencies)
	json.NewEncoder(os.Stdout).Encode(map[string]float64{
		"calls": float64(len(latencies)), "seconds": elapsed, "p50_us": latencies[len(latencies)/2],
	})
}
