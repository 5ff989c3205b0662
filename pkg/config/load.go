package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Load reads the configuration at path over the defaults. A missing file
// yields the defaults; a present one is parsed strictly: an unknown key,
// a wrong type or bad TOML is an error naming the key and line.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Default(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes TOML over the defaults and validates the result. Tables
// that the document names replace the default tables of the same name;
// a document that defines [runtimes.X] tables replaces the default
// handlers, so that removing a handler is possible.
func Parse(data []byte) (*Config, error) {
	cfg := Default()
	var doc struct {
		Runtimes map[string]any `toml:"runtimes"`
	}
	// A first loose pass only to learn whether runtimes are given.
	_ = toml.Unmarshal(data, &doc)
	if len(doc.Runtimes) > 0 {
		cfg.Runtimes = nil
	}
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return nil, describe(err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func describe(err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		msgs := make([]string, 0, len(strict.Errors))
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, _ := e.Position()
			msgs = append(msgs, fmt.Sprintf("line %d: unknown key %q", line, strings.Join(e.Key(), ".")))
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	var dec *toml.DecodeError
	if errors.As(err, &dec) {
		line, col := dec.Position()
		if key := dec.Key(); len(key) > 0 {
			return fmt.Errorf("line %d column %d: key %q: %s", line, col, strings.Join(key, "."), dec.Error())
		}
		return fmt.Errorf("line %d column %d: %s", line, col, dec.Error())
	}
	return err
}
