package goroot

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Leftover is a trial or discarded tree beside goroot/ that the tool keeps
// for the developer to inspect, and never removes by itself.
type Leftover struct {
	Path string // absolute
	Size int64  // bytes on disk (apparent sizes of regular files)
	What string // why it is there
}

// Remove is the command that removes it, run from the directory holding
// goroot/.
func (l Leftover) Remove() string { return "rm -rf " + filepath.Base(l.Path) }

func (l Leftover) String() string {
	return fmt.Sprintf("%s/ (%s): %s; remove it with: %s", filepath.Base(l.Path), FormatSize(l.Size), l.What, l.Remove())
}

// Leftovers lists the trees beside dir (goroot/) that earlier commands left:
// goroot.failed/ (a series that did not apply), goroot.rebase/ (a rebase
// trial with conflicts) and goroot.discarded-DATE/ (work a forced remake
// moved aside), with their sizes.
func Leftovers(dir string) ([]Leftover, error) {
	var ls []Leftover
	add := func(path, what string) error {
		fi, err := os.Lstat(path)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return nil
		}
		size, err := dirSize(path)
		if err != nil {
			return err
		}
		ls = append(ls, Leftover{Path: path, Size: size, What: what})
		return nil
	}
	if err := add(dir+".failed", "the half-applied tree of a patch that did not apply (git -C "+filepath.Base(dir)+".failed am --show-current-patch=diff)"); err != nil {
		return nil, err
	}
	if err := add(dir+".rebase", "the trial tree of unilock rebase"); err != nil {
		return nil, err
	}
	discarded, _ := filepath.Glob(dir + DiscardedPrefix + "*")
	sort.Strings(discarded)
	for _, d := range discarded {
		if err := add(d, "work a forced remake moved aside (see the commands make --force printed; git -C "+filepath.Base(d)+" status)"); err != nil {
			return nil, err
		}
	}
	return ls, nil
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) || os.IsPermission(err) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n, err
}

// FormatSize says a size in bytes for people: 512 B, 38 MB, 1.2 GB.
func FormatSize(n int64) string {
	switch {
	case n >= 10<<30:
		return fmt.Sprintf("%d GB", n>>30)
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 10<<20:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 10<<10:
		return fmt.Sprintf("%d kB", n>>10)
	default:
		return fmt.Sprintf("%d B", n)
	}
}
