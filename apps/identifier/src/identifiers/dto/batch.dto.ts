import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsObject, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { HandleValueDto, TemplateRefDto } from './handle-value.dto';

export const MAX_BATCH_ITEMS = 5000;

export class BatchItemDto {
  @ApiPropertyOptional({ type: TemplateRefDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => TemplateRefDto)
  template?: TemplateRefDto;
  @ApiProperty({ example: '88.100.1000/PUMP-000042' }) @IsString() @MaxLength(4400) handle!: string;
  @ApiProperty({ type: [HandleValueDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => HandleValueDto)
  values!: HandleValueDto[];
}

export class BatchRegisterDto {
  @ApiProperty({ type: [BatchItemDto], maxItems: MAX_BATCH_ITEMS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_ITEMS, { message: `a batch holds at most ${MAX_BATCH_ITEMS} identifiers` })
  @ValidateNested({ each: true })
  @Type(() => BatchItemDto)
  items!: BatchItemDto[];
}

export interface BatchItemResult {
  handle: string;
  status: 'created' | 'failed';
  responseCode: number;
  error?: { code: string; message: string };
}
