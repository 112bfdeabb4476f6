/* fcall.h - prepared calls (internal). */
#ifndef WEFT_FCALL_H
#define WEFT_FCALL_H
#endif
