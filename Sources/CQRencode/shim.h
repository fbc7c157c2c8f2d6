#ifndef PALIER_CQRENCODE_SHIM_H
#define PALIER_CQRENCODE_SHIM_H
#include <qrencode.h>
#endif
