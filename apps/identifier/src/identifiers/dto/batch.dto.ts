import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { HandleValueDto, TemplateRefDto } from './handle-value.dto';

/** OpenAPI shapes of batch registration; checked by batchRegisterSchema (handle-value.schema.ts). */
export const MAX_BATCH_ITEMS = 5000;

export class BatchItemDto {
  @ApiPropertyOptional({ type: TemplateRefDto }) template?: TemplateRefDto;
  @ApiProperty({ example: '88.100.1000/PUMP-000042', maxLength: 4400 }) handle!: string;
  @ApiProperty({ type: [HandleValueDto], minItems: 1, maxItems: 100 }) values!: HandleValueDto[];
}

export class BatchRegisterDto {
  @ApiProperty({ type: [BatchItemDto], minItems: 1, maxItems: MAX_BATCH_ITEMS }) items!: BatchItemDto[];
}

export interface BatchItemResult {
  handle: string;
  status: 'created' | 'failed';
  responseCode: number;
  error?: { code: string; message: string };
}
