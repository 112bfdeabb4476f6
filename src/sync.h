#ifndef WEFT_SYNC_H
#define WEFT_SYNC_H
#endif
