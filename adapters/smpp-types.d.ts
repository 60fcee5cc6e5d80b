/**
 * The parts of the `smpp` package (node-smpp 0.5, CommonJS, no bundled types) Herald uses.
 * PDU fields are dynamic (named after the SMPP 3.4 parameters, e.g. `short_message`,
 * `receipted_message_id`), so a PDU is typed as an open record read through narrowing.
 */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  namespace smpp {
    /** One SMPP PDU; `fields` go by their SMPP 3.4 parameter and TLV names. */
    class PDU {
      constructor(command: string, fields?: Record<string, unknown>);
      command: string;
      command_id: number;
      command_status: number;
      sequence_number: number;
      [field: string]: unknown;
      isResponse(): boolean;
      /** The matching `*_resp` (or generic_nack) with this PDU's sequence number. */
      response(fields?: Record<string, unknown>): PDU;
      toBuffer(): Buffer;
      static fromBuffer(buffer: Buffer): PDU | false;
    }

    /** A bound or binding SMPP connection, client or server side. */
    class Session extends EventEmitter {
      readonly socket: Socket;
      /** Set on server-side sessions. */
      server?: Server;
      /**
       * Writes a PDU (a sequence number is assigned to requests).
       * @returns false when the socket is not writable (nothing was sent).
       */
      send(pdu: PDU, onResponse?: (resp: PDU) => void, onWritten?: (pdu: PDU) => void): boolean;
      close(callback?: () => void): void;
      destroy(callback?: () => void): void;
      pause(): void;
      resume(): void;
    }

    interface ConnectOptions {
      host: string;
      port: number;
      /** Enquire-link period of the package's own keep-alive; Herald runs its own. */
      auto_enquire_link_period?: number;
    }

    class Server extends NetServer {
      sessions: Session[];
    }

    interface TextEncoding {
      encode(text: string): Buffer;
      decode(bytes: Buffer): string;
      match(text: string): boolean;
    }

    function connect(options: ConnectOptions, onConnect?: () => void): Session;
    function createServer(options: Record<string, unknown>, onSession: (session: Session) => void): Server;

    /** Text codecs by name: `ASCII` is the GSM 03.38 default alphabet (one septet per octet). */
    const encodings: {
      readonly ASCII: TextEncoding;
      readonly LATIN1: TextEncoding;
      readonly UCS2: TextEncoding;
    };
    /** Registers a TLV by name (e.g. a vendor-specific one, 0x1400–0x3FFF) for encoding and decoding. */
    function addTLV(tag: string, options: { readonly id: number; readonly type: unknown }): void;
    /** Field codecs; `tlv.cstring` is a NUL-terminated string TLV. */
    const types: {
      readonly tlv: Readonly<Record<'int8' | 'int16' | 'int32' | 'cstring' | 'string' | 'buffer', unknown>>;
    };
    /** command_status names → codes (`ESME_RTHROTTLED: 0x58`, …). */
    const errors: Readonly<Record<string, number>>;
  }

  export = smpp;
}
