# Build: a static binary, no cgo.
FROM golang:1.26-bookworm AS build
WORKDIR /src

# Dependencies first, so this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /napad ./cmd/napad

# Run: distroless static (CA certificates and tzdata, no shell), as nonroot.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /napad /napad
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/napad"]
CMD ["serve"]
