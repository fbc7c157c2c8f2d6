#ifndef PALIER_CSODIUM_SHIM_H
#define PALIER_CSODIUM_SHIM_H
#include <sodium.h>
#endif
