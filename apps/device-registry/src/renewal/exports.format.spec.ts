import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import { ExportTable, csvField, writeCsv, writeXlsx } from './exports.format';

const table = (): ExportTable => ({
  sheet: 'Projects',
  columns: [
    { header: 'name', kind: 'text' },
    { header: 'amountCny', kind: 'number' },
    { header: 'share', kind: 'share' },
  ],
  rows: (async function* () {
    yield [['泵站改造, "一期"', 1234567.89, 0.8]];
    yield [['=HYPERLINK("x")', 0, null]];
  })(),
});

const collect = async (write: (out: PassThrough) => Promise<void>): Promise<Buffer> => {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => out.on('end', resolve));
  await write(out);
  out.end();
  await done;
  return Buffer.concat(chunks);
};

describe('renewal exports format', () => {
  it('quotes CSV fields per RFC 4180 and defuses formulas in text only', () => {
    expect(csvField('a,b', 'text')).toBe('"a,b"');
    expect(csvField('say "hi"', 'text')).toBe('"say ""hi"""');
    expect(csvField('=1+1', 'text')).toBe("'=1+1");
    expect(csvField('-5', 'text')).toBe("'-5");
    expect(csvField(-5, 'number')).toBe('-5');
    expect(csvField(null, 'number')).toBe('');
  });

  it('writes CSV with a BOM, a header and every page', async () => {
    const text = (await collect((out) => writeCsv(table(), out))).toString('utf8');
    expect(text).toBe('\uFEFFname,amountCny,share\r\n"泵站改造, ""一期""",1234567.89,0.8\r\n"\'=HYPERLINK(""x"")",0,\r\n');
  });

  it('writes an XLSX that ExcelJS reads back with the same values, numbers as numbers', async () => {
    const buffer = await collect((out) => writeXlsx(table(), out));
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(buffer as unknown as ArrayBuffer);
    const sheet = workbook.getWorksheet('Projects');
    expect(sheet?.getRow(1).values).toEqual([undefined, 'name', 'amountCny', 'share']);
    expect(sheet?.getRow(2).values).toEqual([undefined, '泵站改造, "一期"', 1234567.89, 0.8]);
    expect(sheet?.getRow(3).getCell(1).value).toBe('=HYPERLINK("x")');
    expect(sheet?.getRow(2).getCell(2).numFmt).toBe('#,##0.00');
  });
});
