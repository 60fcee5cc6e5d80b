export type Encoding = 'GSM-7' | 'UCS-2';
