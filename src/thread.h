#ifndef WEFT_THREAD_H
#define WEFT_THREAD_H
#endif
