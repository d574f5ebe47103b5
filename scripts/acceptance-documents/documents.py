"""Documents for the acceptance document pass, generated at run time with the libraries people make them with.

Each document is a dict: name, mime, data (bytes), kind ("planted" holds a credential and personal data, "personal"
holds personal data only, "clean" holds look-alikes only, "unreadable" cannot be inspected), where (the place the
values were planted) and values (what must never reach the vendor).
"""
import csv
import io
import json
import zipfile

from docx import Document
from openpyxl import Workbook
from openpyxl.comments import Comment
from pptx import Presentation
from pptx.util import Inches
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from PIL import Image, ImageDraw, ImageFont
import pikepdf

# Clearly fake values in real formats (the rules check format and checksums, not whether an account exists).
AWS_KEY = "AKIAQ3EGKZ7L5WRXH2PD"
SSN = "536-22-8514"
EMAIL = "dana.whitfield@northwind-example.com"
DB_URL = "postgres://billing:Xk9#pq2LmZr7@db.internal.example:5432/ledger"
LOOKALIKES = ["ticket 4111-1111-1111-1112", "build 1.24.3-rc2", "uuid 3f2c9a1e-7b4d-4e8a-9c61-2d5f0b7e8a14",
              "sha 9b74c9897bac770ffc029102a200c5de", "phone extension x4412"]
FILLER = ["Quarterly delivery review for the northern region.", "Shipments grew in March and held in April.",
          "Action items are listed in the appendix."]


def planted_lines(where):
    return [f"{where}: AWS access key {AWS_KEY}", f"{where}: employee SSN {SSN}"]


def doc(name, mime, data, kind, where, values):
    return {"name": name, "mime": mime, "data": data, "kind": kind, "where": where, "values": values}


# ------------------------------------------------------------------ PDF

def pdf(lines_per_page, info=None, annotation=None, field=None, header=None, footer=None):
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    if info:
        c.setTitle(info.get("title", "Report"))
        c.setSubject(info.get("subject", ""))
        c.setKeywords(info.get("keywords", ""))
    for number, lines in enumerate(lines_per_page):
        if header:
            c.drawString(40, 815, header)
        if footer:
            c.drawString(40, 20, footer)
        y = 780
        for line in lines:
            c.drawString(40, y, line)
            y -= 16
        if number == 0 and annotation:
            c.textAnnotation(annotation, Rect=(400, 700, 420, 720))
        if number == 0 and field:
            c.acroForm.textfield(name="account", value=field, x=40, y=500, width=400, height=20)
        c.showPage()
    c.save()
    return out.getvalue()


def scanned_pdf(lines):
    """A PDF whose only content is a picture of text (a scan)."""
    image = text_image(lines)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    from reportlab.lib.utils import ImageReader
    c.drawImage(ImageReader(io.BytesIO(buffer.getvalue())), 30, 500, width=535, height=535 * image.height / image.width)
    c.showPage()
    c.save()
    return out.getvalue()


def encrypted_pdf():
    source = pikepdf.open(io.BytesIO(pdf([planted_lines("encrypted")])))
    out = io.BytesIO()
    source.save(out, encryption=pikepdf.Encryption(user="open-sesame", owner="owner-pass", R=6))
    return out.getvalue()


# ------------------------------------------------------------------ Office

def docx(paragraphs=(), table=None, header=None, footer=None, comment=None, keywords=None):
    d = Document()
    for text in paragraphs:
        d.add_paragraph(text)
    if table:
        t = d.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    section = d.sections[0]
    if header:
        section.header.paragraphs[0].text = header
    if footer:
        section.footer.paragraphs[0].text = footer
    if comment:
        run = d.add_paragraph("See the reviewer's comment.").runs[0]
        d.add_comment(run, text=comment, author="Reviewer")
    if keywords:
        d.core_properties.keywords = keywords
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def xlsx(rows, second_sheet=None, comment=None, keywords=None):
    wb = Workbook()
    ws = wb.active
    ws.title = "Customers"
    for row in rows:
        ws.append(row)
    if comment:
        ws["A1"].comment = Comment(comment, "Reviewer")
    if second_sheet:
        other = wb.create_sheet("Archive")
        for row in second_sheet:
            other.append(row)
    if keywords:
        wb.properties.keywords = keywords
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def pptx(slide_text, notes=None):
    p = Presentation()
    slide = p.slides.add_slide(p.slide_layouts[5])
    slide.shapes.title.text = "Roadmap"
    box = slide.shapes.add_textbox(Inches(1), Inches(2), Inches(8), Inches(3))
    box.text_frame.text = slide_text
    if notes:
        slide.notes_slide.notes_text_frame.text = notes
    out = io.BytesIO()
    p.save(out)
    return out.getvalue()


# ------------------------------------------------------------------ text-like, e-mail, images, archives

def csv_bytes(rows):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def eml(text, attachment=None):
    import base64
    import quopri
    boundary = "acc-boundary-1"
    body = (f"From: Ops <ops@example.test>\r\nTo: Team <team@example.test>\r\nSubject: weekly handover\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            + quopri.encodestring(text.encode(), quotetabs=True).decode() + "\r\n")
    if attachment:
        name, data = attachment
        encoded = base64.encodebytes(data).decode()
        body += (f"--{boundary}\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\n"
                 f"Content-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n")
    return (body + f"--{boundary}--\r\n").encode()


def text_image(lines):
    font = ImageFont.load_default(size=36)
    image = Image.new("RGB", (1400, 90 + 60 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((40, 40 + 60 * number), line, fill="black", font=font)
    return image


def png(lines):
    out = io.BytesIO()
    text_image(lines).save(out, format="PNG")
    return out.getvalue()


def zip_of(members):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return out.getvalue()


def zip_bomb():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("zeros.csv", b"0" * (600 << 20))
    return out.getvalue()


def corrupted_pdf():
    whole = pdf([FILLER])
    return whole[: len(whole) // 2]


# ------------------------------------------------------------------ the set

def all_documents():
    P, PDF_MIME = planted_lines, "application/pdf"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    secret = [AWS_KEY, SSN]
    docs = [
        doc("body.pdf", PDF_MIME, pdf([FILLER, FILLER + P("page 2")]), "planted", "PDF page 2 body", secret),
        doc("header.pdf", PDF_MIME, pdf([FILLER], header=P("header")[0], footer=P("footer")[1]), "planted", "PDF header and footer", secret),
        doc("meta.pdf", PDF_MIME, pdf([FILLER], info={"keywords": " ".join(P("keywords")), "subject": "handover"}), "planted", "PDF metadata", secret),
        doc("annot.pdf", PDF_MIME, pdf([FILLER], annotation=" ".join(P("annotation"))), "planted", "PDF annotation", secret),
        doc("form.pdf", PDF_MIME, pdf([FILLER], field=" ".join(P("form field"))), "planted", "PDF form field", secret),
        doc("scan.pdf", PDF_MIME, scanned_pdf(P("scan")), "planted", "PDF page that is a picture (OCR)", [AWS_KEY]),
        doc("body.docx", DOCX, docx(FILLER + P("docx body")), "planted", "DOCX body", secret),
        doc("table.docx", DOCX, docx(FILLER, table=[["name", "value"], ["key", AWS_KEY], ["ssn", SSN]]), "planted", "DOCX table", secret),
        doc("header.docx", DOCX, docx(FILLER, header=P("header")[0], footer=P("footer")[1]), "planted", "DOCX header and footer", secret),
        doc("comment.docx", DOCX, docx(FILLER, comment=" ".join(P("comment"))), "planted", "DOCX comment", secret),
        doc("props.docx", DOCX, docx(FILLER, keywords=" ".join(P("keywords"))), "planted", "DOCX properties", secret),
        doc("cells.xlsx", XLSX, xlsx([["name", "key", "ssn"], ["ops", AWS_KEY, SSN]]), "planted", "XLSX cells", secret),
        doc("sheet2.xlsx", XLSX, xlsx([["region", "sales"], ["north", 12]], second_sheet=[["key", AWS_KEY], ["ssn", SSN]]), "planted", "XLSX second sheet", secret),
        doc("comment.xlsx", XLSX, xlsx([["region", "sales"]], comment=" ".join(P("cell comment"))), "planted", "XLSX cell comment", secret),
        doc("props.xlsx", XLSX, xlsx([["region"]], keywords=" ".join(P("keywords"))), "planted", "XLSX properties", secret),
        doc("slide.pptx", PPTX, pptx(" ".join(P("slide"))), "planted", "PPTX slide", secret),
        doc("notes.pptx", PPTX, pptx("Roadmap for Q3", notes=" ".join(P("speaker notes"))), "planted", "PPTX speaker notes", secret),
        doc("data.csv", "text/csv", csv_bytes([["name", "key", "ssn"], ["ops", AWS_KEY, SSN]]), "planted", "CSV cells", secret),
        doc("export.json", "application/json", ('{"service": "billing", "dsn": "' + DB_URL.replace("@", "\\u0040").replace(":", "\\u003a") + '"}').encode(), "planted", "JSON value, \\u-escaped", [DB_URL]),
        doc("notes.md", "text/markdown", ("# Handover\n\n" + "\n".join(P("markdown"))).encode(), "planted", "Markdown", secret),
        doc("page.html", "text/html", ("<html><body><p>key AKIA&#81;3EGKZ7L5WRXH2PD</p><p>ssn 536&#45;22&#45;8514</p></body></html>").encode(), "planted", "HTML with entities", secret),
        doc("memo.rtf", "application/rtf", (r"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 key AKIA\'51" + AWS_KEY[5:] + r"\par ssn " + SSN + r"\par}").encode(), "planted", "RTF with escapes", secret),
        doc("handover.eml", "message/rfc822", eml("\n".join(P("e-mail body (quoted-printable)"))), "planted", "E-mail quoted-printable body", secret),
        doc("forward.eml", "message/rfc822", eml("see attachment", ("keys.docx", docx(P("e-mail attachment")))), "planted", "E-mail attachment (DOCX, base64)", secret),
        doc("archive.zip", "application/zip", zip_of([("readme.txt", b"exports"), ("export/data.csv", csv_bytes([["key", AWS_KEY], ["ssn", SSN]]))]), "planted", "ZIP member", secret),
        doc("screenshot.png", "image/png", png(["$ aws configure list", f"access_key {AWS_KEY}"]), "planted", "image text (OCR)", [AWS_KEY]),
        doc("upload", "application/octet-stream", csv_bytes([["key", "ssn"], [AWS_KEY, SSN]]), "planted", "CSV named 'upload', octet-stream", secret),
        doc("notes.txt", "text/plain", pdf([P("a PDF named .txt")[0:1]]), "planted", "PDF named .txt", [AWS_KEY]),
        # Personal data only, in text documents: rewritten, values replaced.
        doc("contacts.csv", "text/csv", csv_bytes([["name", "email"], ["Dana", EMAIL]]), "personal", "CSV e-mail column", [EMAIL]),
        doc("people.txt", "text/plain", f"Reach Dana at {EMAIL}; SSN on file {SSN}.".encode(), "personal", "text", [EMAIL, SSN]),
        # Personal data only, in binary documents: cannot be redacted in place, so blocked.
        doc("contacts.pdf", PDF_MIME, pdf([[f"Reach Dana at {EMAIL}"]]), "planted", "PDF with personal data only", [EMAIL]),
        # Uninspectable.
        doc("locked.pdf", PDF_MIME, encrypted_pdf(), "unreadable", "encrypted PDF", [AWS_KEY]),
        doc("broken.pdf", PDF_MIME, corrupted_pdf(), "unreadable", "corrupted PDF", []),
        doc("bomb.zip", "application/zip", zip_bomb(), "unreadable", "ZIP bomb (600 MiB of zeros)", []),
        doc("blob.bin", "application/octet-stream", bytes(range(256)) * 64, "unreadable", "unknown binary", []),
    ]
    clean = [
        doc("clean.pdf", PDF_MIME, pdf([FILLER, LOOKALIKES]), "clean", "PDF look-alikes", []),
        doc("clean.docx", DOCX, docx(FILLER + LOOKALIKES, header="Northwind internal"), "clean", "DOCX look-alikes", []),
        doc("clean.xlsx", XLSX, xlsx([["ref", "value"]] + [[str(i), v] for i, v in enumerate(LOOKALIKES)]), "clean", "XLSX look-alikes", []),
        doc("clean.pptx", PPTX, pptx(" ".join(LOOKALIKES), notes="Speak to the numbers."), "clean", "PPTX look-alikes", []),
        doc("clean.csv", "text/csv", csv_bytes([["ref", "value"]] + [[str(i), v] for i, v in enumerate(LOOKALIKES)]), "clean", "CSV look-alikes", []),
        doc("clean.md", "text/markdown", ("# Notes\n\n" + "\n".join(LOOKALIKES)).encode(), "clean", "Markdown look-alikes", []),
        # A message always names people (From, To): its addresses are rewritten, the rest arrives.
        doc("memo.eml", "message/rfc822", eml("\n".join(FILLER), ("summary.pdf", pdf([FILLER]))), "personal", "E-mail addresses in headers", ["ops@example.test", "team@example.test"]),
        doc("clean.zip", "application/zip", zip_of([("a.txt", "\n".join(LOOKALIKES).encode())]), "clean", "ZIP look-alikes", []),
        doc("chart.png", "image/png", png(["Sales by region", "north 12  south 9"]), "clean", "image without sensitive text", []),
    ]
    return docs + clean


def batch_file(content):
    line = {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]}}
    return (json.dumps(line) + "\n").encode()
