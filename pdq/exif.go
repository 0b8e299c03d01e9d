package pdq

import (
	"bufio"
	"encoding/binary"
	"io"
)

// jpegOrientation returns the EXIF orientation (1 to 8) of a JPEG stream, 1 when it has
// none or it cannot be read. It reads the markers up to the first scan, holding at most one
// segment (64 KiB) in memory; no count or offset in the EXIF data is trusted.
//
// The orientation says how the stored pixels are to be turned for display: 1 as stored,
// 2 mirrored left to right, 3 turned upside down, 4 mirrored top to bottom, 5 transposed,
// 6 turned a quarter clockwise, 7 transposed about the other diagonal, 8 turned a quarter
// counter-clockwise.
func jpegOrientation(r *bufio.Reader) int {
	var soi [2]byte
	if _, err := io.ReadFull(r, soi[:]); err != nil || soi != [2]byte{0xff, 0xd8} {
		return 1
	}
	for range 64 { // segments before the first scan; real files have a handful
		b, err := r.ReadByte()
		if err != nil || b != 0xff {
			return 1
		}
		marker := byte(0xff)
		for marker == 0xff { // fill bytes
			if marker, err = r.ReadByte(); err != nil {
				return 1
			}
		}
		switch {
		case marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7):
			continue // no length
		case marker == 0xd9 || marker == 0xda: // end of image, start of scan
			return 1
		}
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return 1
		}
		n := int(binary.BigEndian.Uint16(l[:])) - 2
		if n < 0 {
			return 1
		}
		if marker != 0xe1 { // APP1 holds EXIF
			if _, err := r.Discard(n); err != nil {
				return 1
			}
			continue
		}
		seg := make([]byte, n)
		if _, err := io.ReadFull(r, seg); err != nil {
			return 1
		}
		if len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
	}
	return 1
}

// tiffOrientation reads tag 0x0112 of the first IFD of a TIFF structure (EXIF's).
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 1
	}
	if order.Uint16(t[2:]) != 42 {
		return 1
	}
	ifd := uint64(order.Uint32(t[4:]))
	if ifd+2 > uint64(len(t)) {
		return 1
	}
	count := uint64(order.Uint16(t[ifd:]))
	for i := range count {
		e := ifd + 2 + 12*i
		if e+12 > uint64(len(t)) {
			return 1
		}
		entry := t[e : e+12]
		if order.Uint16(entry) != 0x0112 {
			continue
		}
		// SHORT, one value, held in the first two bytes of the value field.
		if order.Uint16(entry[2:]) != 3 || order.Uint32(entry[4:]) != 1 {
			return 1
		}
		if v := int(order.Uint16(entry[8:])); v >= 1 && v <= 8 {
			return v
		}
		return 1
	}
	return 1
}
