"""Writes the benchmark documents (fixed seed) into the directory given: a 20-page and a 200-page PDF, a 5 MB XLSX,
a 60-page DOCX, a 40-slide PPTX, an e-mail with attachments, a ZIP of CSVs, a 5 MB CSV, a 2 MB HTML page, and for OCR
a one-page scan (a PDF page that is a picture) and a screenshot."""
import io
import os
import random
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts", "acceptance-documents"))
import documents as D  # noqa: E402
from docx import Document  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from pptx import Presentation  # noqa: E402
from pptx.util import Inches  # noqa: E402

out = sys.argv[1]
random.seed(7)
WORDS = "delivery contract customer account region quarter payment terms invoice schedule north south review".split()


def sentence(n=12):
    return " ".join(random.choice(WORDS) for _ in range(n))


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


write("report-20p.pdf", D.pdf([[sentence() for _ in range(45)] for _ in range(20)]))
write("report-200p.pdf", D.pdf([[sentence() for _ in range(45)] for _ in range(200)]))

wb = Workbook(write_only=True)
ws = wb.create_sheet("Data")
size = 0
row = 0
while True:
    row += 1
    ws.append([row, sentence(3), random.randint(1, 10**6), sentence(2), f"ref-{random.randint(10**5, 10**6)}"])
    if row >= 140000:
        break
wb.save(os.path.join(out, "sheet-large.xlsx"))

d = Document()
for _ in range(60 * 8):
    d.add_paragraph(" ".join(sentence() for _ in range(4)))
buffer = io.BytesIO()
d.save(buffer)
write("notes-60p.docx", buffer.getvalue())

p = Presentation()
for number in range(40):
    slide = p.slides.add_slide(p.slide_layouts[5])
    slide.shapes.title.text = f"Slide {number + 1}"
    slide.shapes.add_textbox(Inches(1), Inches(2), Inches(8), Inches(4)).text_frame.text = "\n".join(sentence() for _ in range(8))
    slide.notes_slide.notes_text_frame.text = sentence(40)
buffer = io.BytesIO()
p.save(buffer)
write("deck-40.pptx", buffer.getvalue())

rows = [["id", "name", "region", "amount", "note"]] + [[str(i), sentence(2), sentence(1), str(random.randint(1, 9999)), sentence(8)] for i in range(60000)]
csv_bytes = D.csv_bytes(rows)
write("table-5mb.csv", csv_bytes[: 5 << 20])
write("mail.eml", D.eml("\n".join(sentence() for _ in range(200)), ("report.pdf", D.pdf([[sentence() for _ in range(45)] for _ in range(5)]))))
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
    for number in range(20):
        z.writestr(f"export/part-{number}.csv", csv_bytes[number * 100000:(number + 1) * 100000])
write("exports.zip", buffer.getvalue())
write("scan-1p.pdf", D.scanned_pdf([sentence(6) for _ in range(12)]))
write("screenshot.png", D.png([sentence(6) for _ in range(8)]))
write("page-2mb.html", ("<html><body>" + "".join(f"<p>{sentence()} &amp; {sentence(4)}</p>" for _ in range(20000)) + "</body></html>").encode())
