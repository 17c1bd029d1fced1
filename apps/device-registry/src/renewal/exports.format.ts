import { Writable } from 'node:stream';
import ExcelJS from 'exceljs';

/** A column of an export: its header and how its values are written. */
export interface ExportColumn {
  header: string;
  kind: 'text' | 'number' | 'share';
  /** Spreadsheet column width, characters. */
  width?: number;
}

export type ExportValue = string | number | boolean | null;

/** A table to export: columns and rows (pages of them, as they are read). */
export interface ExportTable {
  sheet: string;
  columns: ExportColumn[];
  /** Pages of rows, as they are read. */
  rows: AsyncIterable<ExportValue[][]> | Iterable<ExportValue[][]>;
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. Text that a
 * spreadsheet would run as a formula (=, +, -, @, tab, CR first) is prefixed with an apostrophe,
 * as OWASP advises for CSV injection; numbers are written as they are.
 */
export function csvField(value: ExportValue, kind: ExportColumn['kind']): string {
  if (value === null) return '';
  if (typeof value !== 'string' || kind !== 'text') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: ExportValue[], columns: ExportColumn[]): string {
  return `${values.map((v, i) => csvField(v, columns[i].kind)).join(',')}\r\n`;
}

/** Writes the table as CSV, page by page (UTF-8 with a byte-order mark, so spreadsheets read Chinese names right). */
export async function writeCsv(table: ExportTable, out: Writable): Promise<void> {
  const write = (chunk: string) => (out.write(chunk) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', resolve)));
  await write(`\uFEFF${table.columns.map((c) => csvField(c.header, 'text')).join(',')}\r\n`);
  for await (const page of pagesOf(table)) await write(page.map((r) => csvLine(r, table.columns)).join(''));
}

/**
 * Writes the table as an XLSX workbook with ExcelJS's streaming writer (rows are committed as
 * they come, not held): numbers as numeric cells (amounts with two decimals, shares as percent).
 */
export async function writeXlsx(table: ExportTable, out: Writable): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  const sheet = workbook.addWorksheet(table.sheet, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = table.columns.map((c, i) => ({
    key: String(i),
    header: c.header,
    width: c.width ?? (c.kind === 'text' ? 24 : 16),
    style: c.kind === 'number' ? { numFmt: '#,##0.00' } : c.kind === 'share' ? { numFmt: '0.00%' } : {},
  }));
  sheet.getRow(1).font = { bold: true };
  sheet.getRow(1).commit();
  for await (const page of pagesOf(table)) for (const r of page) sheet.addRow(r).commit();
  sheet.commit();
  await workbook.commit();
}

/** for await takes both kinds of iterable; typed as one so each page is ExportValue[][]. */
function pagesOf(table: ExportTable): AsyncIterable<ExportValue[][]> {
  return table.rows as AsyncIterable<ExportValue[][]>;
}
