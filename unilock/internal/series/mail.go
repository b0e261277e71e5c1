package series

import (
	"bytes"
	"fmt"
	"net/mail"
	"strings"

	"unilock/internal/change"
)

// Mail is a patch file read as the commit it was made from.
type Mail struct {
	From    string // the author, "Name <email>"
	Date    string // the author date, as written
	Subject string // without the [PATCH] prefix
	Message string // subject, blank line, body and trailers: the commit message
	// headEnd and msgEnd locate the message in the file: it runs from the
	// end of the mail headers to the "---" line before the diffstat.
	headEnd, msgEnd int
}

// Parse reads p's author, date and commit message.
func (p Patch) Parse() (*Mail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(p.Data))
	if err != nil {
		return nil, fmt.Errorf("%s: not a patch mail: %v", p.Name, err)
	}
	m := &Mail{From: msg.Header.Get("From"), Date: msg.Header.Get("Date"), Subject: p.Subject()}
	if dec, err := (&mail.AddressParser{}).Parse(m.From); err == nil {
		m.From = fmt.Sprintf("%s <%s>", dec.Name, dec.Address)
	}
	head := bytes.Index(p.Data, []byte("\n\n"))
	if head < 0 {
		return nil, fmt.Errorf("%s: no end of the mail headers", p.Name)
	}
	m.headEnd = head + 2
	rest := p.Data[m.headEnd:]
	if bytes.HasPrefix(rest, []byte("---\n")) {
		m.msgEnd = m.headEnd // no body
	} else if end := bytes.Index(rest, []byte("\n---\n")); end >= 0 {
		m.msgEnd = m.headEnd + end + 1
	} else {
		return nil, fmt.Errorf("%s: no \"---\" line between the message and the diff", p.Name)
	}
	body := string(p.Data[m.headEnd:m.msgEnd])
	m.Message = m.Subject + "\n"
	if strings.TrimSpace(body) != "" {
		m.Message += "\n" + body
	}
	return m, nil
}

// ChangeID is the patch's Change-Id: the stored trailer, or one derived
// from its author, date and subject (stored reports which).
func (m *Mail) ChangeID() (id string, stored bool) {
	if id := change.ID(m.Message); id != "" {
		return id, true
	}
	return change.DeriveID(m.From, m.Date, m.Subject), false
}

// WithChangeID returns p's file with its Change-Id trailer stored in the
// message; a patch that has one is returned as it is.
func (p Patch) WithChangeID() ([]byte, error) {
	m, err := p.Parse()
	if err != nil {
		return nil, err
	}
	id, stored := m.ChangeID()
	if stored {
		return p.Data, nil
	}
	msg := change.WithID(m.Message, id)
	_, body, _ := strings.Cut(msg, "\n\n")
	var b bytes.Buffer
	b.Write(p.Data[:m.headEnd])
	b.WriteString(body)
	b.Write(p.Data[m.msgEnd:])
	return b.Bytes(), nil
}

// Mbox returns the series as one mbox, each patch with its Change-Id and
// numbered [PATCH n/N], ready for git am.
func Mbox(ps []Patch) ([]byte, error) {
	var b bytes.Buffer
	for i, p := range ps {
		data, err := p.WithChangeID()
		if err != nil {
			return nil, err
		}
		tag := fmt.Sprintf("[PATCH %d/%d]", i+1, len(ps))
		if len(ps) == 1 {
			tag = "[PATCH]"
		}
		head, rest, ok := bytes.Cut(data, []byte("\n\n"))
		if !ok {
			return nil, fmt.Errorf("%s: no end of the mail headers", p.Name)
		}
		head = bytes.Replace(head, []byte("\nSubject: [PATCH]"), []byte("\nSubject: "+tag), 1)
		b.Write(head)
		b.WriteString("\n\n")
		b.Write(rest)
		if !bytes.HasSuffix(rest, []byte("\n")) {
			b.WriteString("\n")
		}
	}
	return b.Bytes(), nil
}
