package pdq

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	xdraw "golang.org/x/image/draw"
)

// picture decodes a test image into NRGBA (so that tests transform exact pixels).
func picture(t testing.TB, name string) *image.NRGBA {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	out := image.NewNRGBA(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Src)
	return out
}

// orient returns the picture as an EXIF orientation says to display it: the display pixel
// (x, y) is the stored pixel given here, for a stored picture of w×h.
func orient(src *image.NRGBA, o int) *image.NRGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		for x := range dw {
			var sx, sy int
			switch o {
			case 1:
				sx, sy = x, y
			case 2: // mirrored left to right
				sx, sy = w-1-x, y
			case 3: // upside down
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored top to bottom
				sx, sy = x, h-1-y
			case 5: // transposed
				sx, sy = y, x
			case 6: // turned a quarter clockwise
				sx, sy = y, h-1-x
			case 7: // transposed about the other diagonal
				sx, sy = w-1-y, h-1-x
			case 8: // turned a quarter counter-clockwise
				sx, sy = w-1-y, x
			}
			dst.SetNRGBA(x, y, src.NRGBAAt(sx, sy))
		}
	}
	return dst
}

// orientationOf is the EXIF orientation that displays a picture as the transform does.
var orientationOf = map[Transform]int{
	Original: 1, Rotate90: 8, Rotate180: 3, Rotate270: 6,
	FlipX: 4, FlipY: 2, FlipPlus1: 5, FlipMinus1: 7,
}

// TestDihedralMatchesTransformedPixels: the hash of each rotation or flip computed from the
// DCT is the hash of the picture turned pixel by pixel. The reference's filter is exactly
// symmetric only for sides whose box window is odd and whose grid is centred (320 pixels:
// windows of 3, samples every 5 from the 3rd; 64: windows of 1); there the hashes agree but
// for rounding. The 320×64 picture checks that the sides swap.
func TestDihedralMatchesTransformedPixels(t *testing.T) {
	t.Parallel()
	photo := picture(t, "testdata/q1050.jpg")
	for _, size := range []image.Point{{320, 320}, {320, 64}} {
		src := image.NewNRGBA(image.Rect(0, 0, size.X, size.Y))
		xdraw.CatmullRom.Scale(src, src.Bounds(), photo, photo.Bounds(), xdraw.Src, nil)
		dih := DihedralImage(src)
		if dih.Hashes[Original] != HashImage(src).Hash || dih.Quality != HashImage(src).Quality {
			t.Error("the original of Dihedral differs from HashImage")
		}
		for tr, o := range orientationOf {
			got := HashImage(orient(src, o)).Hash
			d := got.Distance(dih.Hashes[tr])
			t.Logf("%v %-10v distance %d (to the original %d)", size, tr, d, got.Distance(dih.Hashes[Original]))
			if d > 2 {
				t.Errorf("%v %v: the picture turned hashes %d bits from the dihedral hash", size, tr, d)
			}
		}
	}
}

// TestDihedralOfReferenceBridge: Meta's bridge photo was saved in its eight rotations and
// flips; for each file, the nearest of the original's dihedral hashes is its transform's.
// At 512×321 the box window along the rows is even (4), which shifts the filter by half a
// pixel per pass and the grid by one pixel: the transforms that mirror left to right are
// 16 to 18 bits off, the others exact.
func TestDihedralOfReferenceBridge(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(sharedPDQ(t), "reg-test-input", "dih")
	var h Hasher
	f, err := os.Open(filepath.Join(dir, "bridge-1-original.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dih, err := h.Dihedral(f)
	if err != nil {
		t.Fatal(err)
	}
	files := map[Transform]string{
		Original: "bridge-1-original.jpg", Rotate90: "bridge-2-rotate-90.jpg", Rotate180: "bridge-3-rotate-180.jpg",
		Rotate270: "bridge-4-rotate-270.jpg", FlipX: "bridge-5-flipx.jpg", FlipY: "bridge-6-flipy.jpg",
		FlipPlus1: "bridge-7-flip-plus-1.jpg", FlipMinus1: "bridge-8-flip-minus-1.jpg",
	}
	for tr, name := range files {
		res, err := h.HashFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		d := res.Hash.Distance(dih.Hashes[tr])
		next := 256
		for other, oh := range dih.Hashes {
			if Transform(other) != tr {
				next = min(next, res.Hash.Distance(oh))
			}
		}
		t.Logf("%-10v %s: distance %d, to the nearest other transform %d", tr, name, d, next)
		if d > 20 || next <= 2*d {
			t.Errorf("%v: %s hashes %d bits from its dihedral hash, %d from the nearest other", tr, name, d, next)
		}
	}
}

// exifSegment is an APP1 segment holding an EXIF orientation, in either byte order.
func exifSegment(o int, order binary.AppendByteOrder) []byte {
	var tiff []byte
	if order == binary.BigEndian {
		tiff = []byte("MM\x00\x2a")
	} else {
		tiff = []byte("II\x2a\x00")
	}
	tiff = order.AppendUint32(tiff, 8)
	tiff = order.AppendUint16(tiff, 2) // two entries: another tag first
	tiff = order.AppendUint16(tiff, 0x010f)
	tiff = order.AppendUint16(tiff, 2)
	tiff = order.AppendUint32(tiff, 4)
	tiff = append(tiff, "Go\x00\x00"...)
	tiff = order.AppendUint16(tiff, 0x0112)
	tiff = order.AppendUint16(tiff, 3)
	tiff = order.AppendUint32(tiff, 1)
	tiff = order.AppendUint16(tiff, uint16(o))
	tiff = append(tiff, 0, 0)
	tiff = order.AppendUint32(tiff, 0)
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xff, 0xe1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(payload)+2))
	return append(seg, payload...)
}

// withSegment inserts a segment right after a JPEG's SOI marker.
func withSegment(jpg, seg []byte) []byte {
	return append(append(append([]byte(nil), jpg[:2]...), seg...), jpg[2:]...)
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestEXIFOrientation: a JPEG stored turned, with the EXIF orientation that turns it back,
// hashes as the upright picture; without the EXIF it does not.
func TestEXIFOrientation(t *testing.T) {
	t.Parallel()
	upright := picture(t, "testdata/q1050.jpg").SubImage(image.Rect(0, 0, 256, 176)).(*image.NRGBA)
	var h Hasher
	want, err := h.Hash(bytes.NewReader(encodeJPEG(t, upright)))
	if err != nil {
		t.Fatal(err)
	}
	inverse := map[int]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}
	for o := 1; o <= 8; o++ {
		for _, order := range []binary.AppendByteOrder{binary.BigEndian, binary.LittleEndian} {
			stored := encodeJPEG(t, orient(upright, inverse[o]))
			file := withSegment(stored, exifSegment(o, order))
			if got := jpegOrientation(bufioReader(file)); got != o {
				t.Fatalf("orientation %d read as %d", o, got)
			}
			res, err := h.Hash(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			if d := res.Hash.Distance(want.Hash); d > 8 {
				t.Errorf("orientation %d (%v): %d bits from the upright picture", o, order, d)
			}
			bare, err := h.Hash(bytes.NewReader(stored))
			if err != nil {
				t.Fatal(err)
			}
			if d := bare.Hash.Distance(want.Hash); o != 1 && d < 32 {
				t.Errorf("orientation %d without EXIF: only %d bits from the upright picture", o, d)
			}
		}
	}
}

// TestOrientationReaderRefusesNonsense: broken EXIF gives orientation 1, never a panic.
func TestOrientationReaderRefusesNonsense(t *testing.T) {
	good := withSegment([]byte{0xff, 0xd8, 0xff, 0xd9}, exifSegment(6, binary.BigEndian))
	if o := jpegOrientation(bufioReader(good)); o != 6 {
		t.Fatalf("good segment: %d", o)
	}
	for name, b := range map[string][]byte{
		"empty":     nil,
		"not jpeg":  []byte("GIF89a"),
		"truncated": good[:len(good)-12],
		"value 9":   withSegment([]byte{0xff, 0xd8}, exifSegment(9, binary.BigEndian)),
		"bad magic": bytes.Replace(good, []byte("MM\x00\x2a"), []byte("MM\x00\x2b"), 1),
		"ifd past end": withSegment([]byte{0xff, 0xd8}, func() []byte {
			s := exifSegment(6, binary.BigEndian)
			binary.BigEndian.PutUint32(s[14:], 0xfffffff0)
			return s
		}()),
		"many entries": withSegment([]byte{0xff, 0xd8}, func() []byte {
			s := exifSegment(6, binary.BigEndian)
			binary.BigEndian.PutUint16(s[18:], 0xffff)
			binary.BigEndian.PutUint16(s[32:], 0x0001) // hide the orientation tag
			return s
		}()),
		"short length": {0xff, 0xd8, 0xff, 0xe1, 0x00, 0x01},
		"no scan":      {0xff, 0xd8, 0xff, 0xda},
	} {
		if o := jpegOrientation(bufioReader(b)); o != 1 {
			t.Errorf("%s: orientation %d, want 1", name, o)
		}
	}
}

// crcChunk is a PNG chunk.
func crcChunk(kind string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, kind...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(kind), data...)))
}

// TestPixelBudget: an image whose header declares more pixels than the budget is refused
// before decoding, whatever its format; one within the budget is hashed.
func TestPixelBudget(t *testing.T) {
	t.Parallel()
	ihdr := binary.BigEndian.AppendUint32(nil, 100000)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 100000)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	hugePNG := append([]byte("\x89PNG\r\n\x1a\n"), crcChunk("IHDR", ihdr)...)

	small, err := os.ReadFile("testdata/q1050.jpg")
	if err != nil {
		t.Fatal(err)
	}
	hugeJPEG := append([]byte(nil), small...)
	sof := bytes.Index(hugeJPEG, []byte{0xff, 0xc0})
	if sof < 0 {
		t.Fatal("no SOF0 in q1050.jpg")
	}
	binary.BigEndian.PutUint16(hugeJPEG[sof+5:], 60000) // height
	binary.BigEndian.PutUint16(hugeJPEG[sof+7:], 60000) // width

	hugeGIF := []byte("GIF89a\xff\xff\xff\xff\x00\x00\x00\x3b")

	var bmpBuf bytes.Buffer
	bmp.Encode(&bmpBuf, image.NewGray(image.Rect(0, 0, 8, 8)))
	hugeBMP := bmpBuf.Bytes()
	binary.LittleEndian.PutUint32(hugeBMP[18:], 30000)
	binary.LittleEndian.PutUint32(hugeBMP[22:], 30000)

	for name, b := range map[string][]byte{"png": hugePNG, "jpeg": hugeJPEG, "gif": hugeGIF, "bmp": hugeBMP} {
		_, err := (&Hasher{}).Hash(bytes.NewReader(b))
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "above the budget of 50000000") {
			t.Errorf("%s: %v, want ErrTooLarge naming the budget", name, err)
		}
	}
	_, err = (&Hasher{MaxPixels: 256*256 - 1}).Hash(bytes.NewReader(small))
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "256×256 = 65536 pixels") {
		t.Errorf("one pixel over a set budget: %v", err)
	}
	if _, err := (&Hasher{MaxPixels: 256 * 256}).Hash(bytes.NewReader(small)); err != nil {
		t.Errorf("at the budget: %v", err)
	}
}

// TestBrokenInput: what is not an image, or a broken or truncated one, is a clear error.
func TestBrokenInput(t *testing.T) {
	t.Parallel()
	jpg, err := os.ReadFile("testdata/q1050.jpg")
	if err != nil {
		t.Fatal(err)
	}
	var pngBuf bytes.Buffer
	png.Encode(&pngBuf, picture(t, "testdata/q0122.jpg"))
	pngBytes := pngBuf.Bytes()
	badCRC := append([]byte(nil), pngBytes...)
	badCRC[40] ^= 0xff
	var gifBuf bytes.Buffer
	gif.Encode(&gifBuf, picture(t, "testdata/q0122.jpg"), nil)
	webp, err := os.ReadFile("testdata/q1050.webp")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"text", []byte("this is not a picture, it is a sentence"), ErrFormat},
		{"pdf", []byte("%PDF-1.7\n1 0 obj\n"), ErrFormat},
		{"jpeg marker then garbage", []byte("\xff\xd8\xff\xe0garbage garbage garbage"), ErrMalformed},
		{"truncated jpeg", jpg[:len(jpg)/2], ErrMalformed},
		{"jpeg header only", jpg[:700], ErrMalformed},
		{"truncated png", pngBytes[:len(pngBytes)/2], ErrMalformed},
		{"png with a bad checksum", badCRC, ErrMalformed},
		{"truncated gif", gifBuf.Bytes()[:gifBuf.Len()/2], ErrMalformed},
		{"truncated webp", webp[:len(webp)/2], ErrMalformed},
		{"png of no pixels", append([]byte("\x89PNG\r\n\x1a\n"), crcChunk("IHDR", []byte{0, 0, 0, 0, 0, 0, 0, 1, 8, 2, 0, 0, 0})...), ErrMalformed},
	} {
		_, err := (&Hasher{}).Hash(bytes.NewReader(c.data))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
}

// TestFormats: the same picture in each format hashes alike (lossless ones identically).
func TestFormats(t *testing.T) {
	t.Parallel()
	pic := picture(t, "testdata/q1050.jpg")
	want := HashImage(pic).Hash
	var h Hasher
	jpgHash, err := h.HashFile("testdata/q1050.jpg")
	if err != nil {
		t.Fatal(err)
	}
	encode := func(f func(*bytes.Buffer) error) []byte {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	gray := image.NewGray(pic.Bounds())
	draw.Draw(gray, gray.Bounds(), pic, image.Point{}, draw.Src)
	for _, c := range []struct {
		name string
		data []byte
		max  int
		to   Hash
	}{
		{"png", encode(func(b *bytes.Buffer) error { return png.Encode(b, pic) }), 0, want},
		{"bmp", encode(func(b *bytes.Buffer) error { return bmp.Encode(b, pic) }), 0, want},
		{"gif (256 colours)", encode(func(b *bytes.Buffer) error { return gif.Encode(b, pic, nil) }), 16, want},
		{"grey jpeg", encode(func(b *bytes.Buffer) error { return jpeg.Encode(b, gray, &jpeg.Options{Quality: 95}) }), 8, want},
		{"webp lossless", read("testdata/q1050-lossless.webp"), 8, jpgHash.Hash},
		{"webp lossy", read("testdata/q1050.webp"), 8, jpgHash.Hash},
	} {
		res, err := h.Hash(bytes.NewReader(c.data))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		d := res.Hash.Distance(c.to)
		t.Logf("%-18s distance %2d quality %d", c.name, d, res.Quality)
		if d > c.max {
			t.Errorf("%s: %d bits from the picture's hash, want at most %d", c.name, d, c.max)
		}
	}
}

// TestSmallPictures: below 5 pixels a side the hash is zero with quality 0 (as in the
// reference); a 64×64 picture is taken as the samples themselves.
func TestSmallPictures(t *testing.T) {
	tiny := image.NewGray(image.Rect(0, 0, 4, 100))
	if r := HashImage(tiny); r != (Result{}) {
		t.Errorf("4×100: %v", r)
	}
	// Thin pictures whose short side is shrunk too (6×600 becomes 5×512).
	for w := 5; w <= 16; w++ {
		for _, h := range []int{513, 600, 700, 1000, 2600} {
			g := image.NewGray(image.Rect(0, 0, w, h))
			for i := range g.Pix {
				g.Pix[i] = uint8(i * 7)
			}
			HashImage(g)
			HashImage(orient(picture2NRGBA(g), 6))
		}
	}
	sq := image.NewGray(image.Rect(0, 0, 64, 64))
	var a [64][64]float32
	for y := range 64 {
		for x := range 64 {
			v := uint8((x*x + 3*y) % 256)
			sq.SetGray(x, y, color.Gray{v})
			a[y][x] = float32(v)
		}
	}
	b, q := hashSamples(&a)
	if r := HashImage(sq); r.Hash != bitsOf(&b) || r.Quality != q {
		t.Errorf("64×64: %v, want the hash of its own pixels", r)
	}
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

func picture2NRGBA(img image.Image) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Src)
	return out
}
