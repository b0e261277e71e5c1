package dist

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Unpack extracts a distribution archive (.tar.gz or .zip, files under go/)
// into dir, which then holds go/.
func Unpack(archive, dir string) error {
	if strings.HasSuffix(archive, ".zip") {
		return unzipTo(archive, dir)
	}
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %v", archive, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %v", archive, err)
		}
		dst, err := within(dir, h.Name)
		if err != nil {
			return fmt.Errorf("%s: %v", archive, err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o777); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFrom(dst, tr, h.FileInfo().Mode().Perm()); err != nil {
				return err
			}
		}
	}
}

func unzipTo(archive, dir string) error {
	r, err := zip.OpenReader(archive)
	if err != nil {
		return err
	}
	defer r.Close()
	for _, f := range r.File {
		dst, err := within(dir, f.Name)
		if err != nil {
			return fmt.Errorf("%s: %v", archive, err)
		}
		if strings.HasSuffix(f.Name, "/") {
			if err := os.MkdirAll(dst, 0o777); err != nil {
				return err
			}
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		err = writeFrom(dst, rc, f.Mode().Perm()|0o200)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// within is name under dir, refusing names that leave it.
func within(dir, name string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(name))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("archive entry %q leaves the directory", name)
	}
	return filepath.Join(dir, clean), nil
}

func writeFrom(dst string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
