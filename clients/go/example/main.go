// Connects a JumpCloud account, prints which headers a worker would send, and removes it again.
//
//	CREDVAULT_ADDRESS=127.0.0.1:50051 JUMPCLOUD_API_KEY=jca_... go run ./example
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/credvault/credvault/clients/go/credvault"
	credvaultv1 "github.com/credvault/credvault/clients/go/credvault/v1"
)

func main() {
	address := os.Getenv("CREDVAULT_ADDRESS")
	if address == "" {
		address = "127.0.0.1:50051"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := credvault.Dial(ctx, address, credvault.Options{Insecure: true})
	if err != nil {
		fail(err)
	}
	defer client.Close()

	connection, err := client.CreateConnection(context.Background(), &credvaultv1.CreateConnectionRequest{
		TenantId: "acme", ConnectionId: "jumpcloud-go-example", Provider: "jumpcloud",
		Credentials: map[string]string{"api_key": os.Getenv("JUMPCLOUD_API_KEY")},
	})
	if err != nil {
		fail(err)
	}
	fmt.Printf("created %s: %s\n", connection.GetConnectionId(), connection.GetStatus())
	ids := &credvaultv1.GetAuthHeadersRequest{TenantId: "acme", ConnectionId: "jumpcloud-go-example"}
	auth, err := client.GetAuthHeaders(context.Background(), ids)
	if err != nil {
		fail(err)
	}
	names := make([]string, 0, len(auth.GetHeaders()))
	for name := range auth.GetHeaders() {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Printf("call %s with headers: %v\n", auth.GetBaseUrl(), names)
	if _, err := client.DeleteConnection(context.Background(), &credvaultv1.DeleteConnectionRequest{
		TenantId: "acme", ConnectionId: "jumpcloud-go-example",
	}); err != nil {
		fail(err)
	}
	fmt.Println("deleted")
}

func fail(err error) {
	details := credvault.Details(err)
	fmt.Fprintf(os.Stderr, "%s: %s %s\n", details.Code, details.Message, details.Reason)
	os.Exit(1)
}
