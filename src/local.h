#ifndef WEFT_LOCAL_H
#define WEFT_LOCAL_H
#endif
