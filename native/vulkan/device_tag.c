// VK_LAYER_LASP_device_tag: a Vulkan instance layer that appends " [lasp-gpu N]" to the name of each
// physical device, N being the device's place in PCI-address order (the order nvidia-smi numbers GPUs in;
// devices without a PCI address, such as CPU ones, come after, in the loader's order).
//
// Why: Dawn's Node binding (`--backend webgpu`) chooses an adapter by a part of its name only, so the
// ranks of a node with several identical GPUs could not be spread over them. With this layer each
// rank asks Dawn for "adapter=[lasp-gpu N]" (runtime/backend/vk-device-tag.ts): per Dawn instance,
// so one process can hold ranks on different GPUs. Nothing else is changed; every other call goes
// straight down the chain.
//
// Enabled by runtime/backend/vk-device-tag.ts through VK_ADD_LAYER_PATH and VK_INSTANCE_LAYERS.
// LASP_VK_TAG_DEBUG=1 prints the numbering to stderr.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#define EXPORT __attribute__((visibility("default")))
#define TAG_FORMAT " [lasp-gpu %u]"

typedef struct Instance {
  VkInstance handle;
  PFN_vkGetInstanceProcAddr next_gipa;
  PFN_vkDestroyInstance destroy;
  PFN_vkEnumeratePhysicalDevices enumerate;
  PFN_vkGetPhysicalDeviceProperties props;
  PFN_vkGetPhysicalDeviceProperties2 props2;     /* core 1.1, NULL where the instance is 1.0 */
  PFN_vkGetPhysicalDeviceProperties2 props2_khr; /* the extension's, NULL where not enabled */
  PFN_vkEnumerateDeviceExtensionProperties device_extensions;
  uint32_t api_version;
  int has_props2_khr;
  uint32_t count; /* tagged devices, by place */
  VkPhysicalDevice *order;
  struct Instance *next;
} Instance;

typedef struct Device {
  VkDevice handle;
  PFN_vkGetDeviceProcAddr next_gdpa;
  struct Device *next;
} Device;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static Instance *instances = NULL;
static Device *devices = NULL;

static int debug_on(void) {
  const char *v = getenv("LASP_VK_TAG_DEBUG");
  return v != NULL && strcmp(v, "1") == 0;
}

static Instance *find_instance(VkInstance handle) {
  for (Instance *i = instances; i != NULL; i = i->next)
    if (i->handle == handle) return i;
  return NULL;
}

/* The instance a physical device came from and its place in the numbering (-1 where not numbered). */
static Instance *find_physical(VkPhysicalDevice pd, int64_t *place) {
  /* callers hold `lock` */
  for (Instance *i = instances; i != NULL; i = i->next)
    for (uint32_t k = 0; k < i->count; k++)
      if (i->order[k] == pd) {
        *place = k;
        return i;
      }
  /* not numbered yet: any instance will do to call down (physical devices share their instance's dispatch) */
  *place = -1;
  return instances;
}

static Device *find_device(VkDevice handle) {
  for (Device *d = devices; d != NULL; d = d->next)
    if (d->handle == handle) return d;
  return NULL;
}

/*
 * GPUs the ranks were told the node has (LASP_VK_DEVICE_TAGS, set with the layer by vk-device-tag.ts); 0
 * where unset. Where Vulkan shows fewer devices than that, the numbers wrap: device i also answers to
 * i + m, i + 2m, ... below the claimed count, so a rank never asks Dawn for a name that is not there.
 */
static uint32_t claimed_gpus(void) {
  const char *v = getenv("LASP_VK_DEVICE_TAGS");
  if (v == NULL || *v == '\0') return 0;
  char *end = NULL;
  unsigned long n = strtoul(v, &end, 10);
  return end != NULL && *end == '\0' && n < 4096 ? (uint32_t)n : 0;
}

static void append_tag(char *name, int64_t place, uint32_t count) {
  if (place < 0 || strstr(name, " [lasp-gpu ") != NULL) return; /* not numbered, or tagged by a layer above */
  char tags[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
  size_t used = 0;
  uint32_t claimed = claimed_gpus();
  for (uint64_t k = (uint64_t)place; used < sizeof tags; k += count) {
    int w = snprintf(tags + used, sizeof tags - used, TAG_FORMAT, (unsigned)k);
    if (w < 0 || (size_t)w >= sizeof tags - used) break;
    used += (size_t)w;
    if (count == 0 || k + count >= claimed) break;
  }
  size_t n = strnlen(name, VK_MAX_PHYSICAL_DEVICE_NAME_SIZE);
  if (n + used + 1 > VK_MAX_PHYSICAL_DEVICE_NAME_SIZE) n = VK_MAX_PHYSICAL_DEVICE_NAME_SIZE - used - 1;
  memcpy(name + n, tags, used + 1);
}

typedef struct Key {
  VkPhysicalDevice pd;
  int has_pci;
  uint32_t domain, bus, device, function;
  uint32_t loader_place;
} Key;

static int compare_keys(const void *a, const void *b) {
  const Key *x = a, *y = b;
  if (x->has_pci != y->has_pci) return x->has_pci ? -1 : 1;
  if (x->has_pci) {
    if (x->domain != y->domain) return x->domain < y->domain ? -1 : 1;
    if (x->bus != y->bus) return x->bus < y->bus ? -1 : 1;
    if (x->device != y->device) return x->device < y->device ? -1 : 1;
    if (x->function != y->function) return x->function < y->function ? -1 : 1;
  }
  return x->loader_place < y->loader_place ? -1 : (x->loader_place > y->loader_place ? 1 : 0);
}

static int supports_pci_bus_info(Instance *inst, VkPhysicalDevice pd) {
  uint32_t n = 0;
  if (inst->device_extensions(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0) return 0;
  VkExtensionProperties *ext = calloc(n, sizeof *ext);
  if (ext == NULL) return 0;
  int found = 0;
  if (inst->device_extensions(pd, NULL, &n, ext) == VK_SUCCESS)
    for (uint32_t k = 0; k < n; k++)
      if (strcmp(ext[k].extensionName, VK_EXT_PCI_BUS_INFO_EXTENSION_NAME) == 0) found = 1;
  free(ext);
  return found;
}

/* Numbers the instance's physical devices: PCI address order first, the rest in the loader's order. */
static void number_devices(Instance *inst) {
  uint32_t n = 0;
  if (inst->enumerate(inst->handle, &n, NULL) != VK_SUCCESS || n == 0) return;
  VkPhysicalDevice *pds = calloc(n, sizeof *pds);
  Key *keys = calloc(n, sizeof *keys);
  if (pds == NULL || keys == NULL || inst->enumerate(inst->handle, &n, pds) < 0) {
    free(pds);
    free(keys);
    return;
  }
  for (uint32_t k = 0; k < n; k++) {
    keys[k].pd = pds[k];
    keys[k].loader_place = k;
    VkPhysicalDeviceProperties p;
    inst->props(pds[k], &p);
    PFN_vkGetPhysicalDeviceProperties2 get2 = inst->has_props2_khr ? inst->props2_khr : NULL;
    if (get2 == NULL && inst->api_version >= VK_API_VERSION_1_1 && p.apiVersion >= VK_API_VERSION_1_1) get2 = inst->props2;
    if (get2 != NULL && supports_pci_bus_info(inst, pds[k])) {
      VkPhysicalDevicePCIBusInfoPropertiesEXT pci = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PCI_BUS_INFO_PROPERTIES_EXT};
      VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &pci};
      get2(pds[k], &p2);
      keys[k].has_pci = 1;
      keys[k].domain = pci.pciDomain;
      keys[k].bus = pci.pciBus;
      keys[k].device = pci.pciDevice;
      keys[k].function = pci.pciFunction;
    }
  }
  qsort(keys, n, sizeof *keys, compare_keys);
  for (uint32_t k = 0; k < n; k++) pds[k] = keys[k].pd;
  int first = inst->count == 0;
  free(inst->order);
  inst->order = pds;
  inst->count = n;
  if (first && debug_on()) {
    for (uint32_t k = 0; k < n; k++) {
      VkPhysicalDeviceProperties p;
      inst->props(keys[k].pd, &p);
      if (keys[k].has_pci)
        fprintf(stderr, "lasp-gpu %u: %s (pci %04x:%02x:%02x.%x)\n", k, p.deviceName, keys[k].domain, keys[k].bus,
                keys[k].device, keys[k].function);
      else
        fprintf(stderr, "lasp-gpu %u: %s (no pci address)\n", k, p.deviceName);
    }
  }
  free(keys);
}

static VKAPI_ATTR VkResult VKAPI_CALL tag_CreateInstance(const VkInstanceCreateInfo *info, const VkAllocationCallbacks *alloc,
                                                         VkInstance *out) {
  VkLayerInstanceCreateInfo *chain = (VkLayerInstanceCreateInfo *)info->pNext;
  while (chain != NULL && !(chain->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO && chain->function == VK_LAYER_LINK_INFO))
    chain = (VkLayerInstanceCreateInfo *)chain->pNext;
  if (chain == NULL || chain->u.pLayerInfo == NULL) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr next_gipa = chain->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  chain->u.pLayerInfo = chain->u.pLayerInfo->pNext;
  PFN_vkCreateInstance create = (PFN_vkCreateInstance)next_gipa(VK_NULL_HANDLE, "vkCreateInstance");
  if (create == NULL) return VK_ERROR_INITIALIZATION_FAILED;
  VkResult r = create(info, alloc, out);
  if (r != VK_SUCCESS) return r;

  Instance *inst = calloc(1, sizeof *inst);
  if (inst == NULL) return VK_SUCCESS; /* untagged, still working */
  inst->handle = *out;
  inst->next_gipa = next_gipa;
  inst->destroy = (PFN_vkDestroyInstance)next_gipa(*out, "vkDestroyInstance");
  inst->enumerate = (PFN_vkEnumeratePhysicalDevices)next_gipa(*out, "vkEnumeratePhysicalDevices");
  inst->props = (PFN_vkGetPhysicalDeviceProperties)next_gipa(*out, "vkGetPhysicalDeviceProperties");
  inst->props2 = (PFN_vkGetPhysicalDeviceProperties2)next_gipa(*out, "vkGetPhysicalDeviceProperties2");
  inst->props2_khr = (PFN_vkGetPhysicalDeviceProperties2)next_gipa(*out, "vkGetPhysicalDeviceProperties2KHR");
  inst->device_extensions = (PFN_vkEnumerateDeviceExtensionProperties)next_gipa(*out, "vkEnumerateDeviceExtensionProperties");
  inst->api_version = info->pApplicationInfo != NULL && info->pApplicationInfo->apiVersion != 0 ? info->pApplicationInfo->apiVersion
                                                                                                  : VK_API_VERSION_1_0;
  for (uint32_t k = 0; k < info->enabledExtensionCount; k++)
    if (strcmp(info->ppEnabledExtensionNames[k], VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME) == 0) inst->has_props2_khr = 1;
  if (inst->has_props2_khr == 0) inst->props2_khr = NULL;
  pthread_mutex_lock(&lock);
  inst->next = instances;
  instances = inst;
  pthread_mutex_unlock(&lock);
  return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL tag_DestroyInstance(VkInstance handle, const VkAllocationCallbacks *alloc) {
  pthread_mutex_lock(&lock);
  Instance **at = &instances;
  while (*at != NULL && (*at)->handle != handle) at = &(*at)->next;
  Instance *inst = *at;
  if (inst != NULL) *at = inst->next;
  pthread_mutex_unlock(&lock);
  if (inst == NULL) return;
  inst->destroy(handle, alloc);
  free(inst->order);
  free(inst);
}

static VKAPI_ATTR VkResult VKAPI_CALL tag_EnumeratePhysicalDevices(VkInstance handle, uint32_t *count, VkPhysicalDevice *out) {
  pthread_mutex_lock(&lock);
  Instance *inst = find_instance(handle);
  pthread_mutex_unlock(&lock);
  if (inst == NULL) return VK_ERROR_INITIALIZATION_FAILED;
  VkResult r = inst->enumerate(handle, count, out);
  if (out != NULL && r >= 0) {
    pthread_mutex_lock(&lock);
    number_devices(inst);
    pthread_mutex_unlock(&lock);
  }
  return r;
}

static VKAPI_ATTR void VKAPI_CALL tag_GetPhysicalDeviceProperties(VkPhysicalDevice pd, VkPhysicalDeviceProperties *p) {
  int64_t place;
  pthread_mutex_lock(&lock);
  Instance *inst = find_physical(pd, &place);
  uint32_t count = inst != NULL ? inst->count : 0;
  pthread_mutex_unlock(&lock);
  if (inst == NULL) return;
  inst->props(pd, p);
  append_tag(p->deviceName, place, count);
}

static void properties2(VkPhysicalDevice pd, VkPhysicalDeviceProperties2 *p, int khr) {
  int64_t place;
  pthread_mutex_lock(&lock);
  Instance *inst = find_physical(pd, &place);
  uint32_t count = inst != NULL ? inst->count : 0;
  pthread_mutex_unlock(&lock);
  if (inst == NULL) return;
  PFN_vkGetPhysicalDeviceProperties2 get = khr ? inst->props2_khr : inst->props2;
  if (get == NULL) get = khr ? inst->props2 : inst->props2_khr;
  if (get == NULL) return;
  get(pd, p);
  append_tag(p->properties.deviceName, place, count);
}

static VKAPI_ATTR void VKAPI_CALL tag_GetPhysicalDeviceProperties2(VkPhysicalDevice pd, VkPhysicalDeviceProperties2 *p) {
  properties2(pd, p, 0);
}

static VKAPI_ATTR void VKAPI_CALL tag_GetPhysicalDeviceProperties2KHR(VkPhysicalDevice pd, VkPhysicalDeviceProperties2 *p) {
  properties2(pd, p, 1);
}

static VKAPI_ATTR VkResult VKAPI_CALL tag_CreateDevice(VkPhysicalDevice pd, const VkDeviceCreateInfo *info,
                                                       const VkAllocationCallbacks *alloc, VkDevice *out) {
  VkLayerDeviceCreateInfo *chain = (VkLayerDeviceCreateInfo *)info->pNext;
  while (chain != NULL && !(chain->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO && chain->function == VK_LAYER_LINK_INFO))
    chain = (VkLayerDeviceCreateInfo *)chain->pNext;
  if (chain == NULL || chain->u.pLayerInfo == NULL) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr next_gipa = chain->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  PFN_vkGetDeviceProcAddr next_gdpa = chain->u.pLayerInfo->pfnNextGetDeviceProcAddr;
  chain->u.pLayerInfo = chain->u.pLayerInfo->pNext;
  int64_t place;
  pthread_mutex_lock(&lock);
  Instance *inst = find_physical(pd, &place);
  pthread_mutex_unlock(&lock);
  PFN_vkCreateDevice create = (PFN_vkCreateDevice)next_gipa(inst != NULL ? inst->handle : VK_NULL_HANDLE, "vkCreateDevice");
  if (create == NULL) return VK_ERROR_INITIALIZATION_FAILED;
  VkResult r = create(pd, info, alloc, out);
  if (r != VK_SUCCESS) return r;
  Device *d = calloc(1, sizeof *d);
  if (d == NULL) return VK_ERROR_OUT_OF_HOST_MEMORY;
  d->handle = *out;
  d->next_gdpa = next_gdpa;
  if (debug_on()) {
    if (place >= 0)
      fprintf(stderr, "lasp-gpu: device opened on lasp-gpu %u\n", (unsigned)place);
    else
      fprintf(stderr, "lasp-gpu: device opened on an unnumbered physical device\n");
  }
  pthread_mutex_lock(&lock);
  d->next = devices;
  devices = d;
  pthread_mutex_unlock(&lock);
  return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL tag_DestroyDevice(VkDevice handle, const VkAllocationCallbacks *alloc) {
  pthread_mutex_lock(&lock);
  Device **at = &devices;
  while (*at != NULL && (*at)->handle != handle) at = &(*at)->next;
  Device *d = *at;
  if (d != NULL) *at = d->next;
  pthread_mutex_unlock(&lock);
  if (d == NULL) return;
  PFN_vkDestroyDevice destroy = (PFN_vkDestroyDevice)d->next_gdpa(handle, "vkDestroyDevice");
  if (destroy != NULL) destroy(handle, alloc);
  free(d);
}

EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL tag_GetDeviceProcAddr(VkDevice handle, const char *name) {
  if (strcmp(name, "vkGetDeviceProcAddr") == 0) return (PFN_vkVoidFunction)tag_GetDeviceProcAddr;
  if (strcmp(name, "vkDestroyDevice") == 0) return (PFN_vkVoidFunction)tag_DestroyDevice;
  pthread_mutex_lock(&lock);
  Device *d = find_device(handle);
  pthread_mutex_unlock(&lock);
  return d != NULL ? d->next_gdpa(handle, name) : NULL;
}

EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL tag_GetInstanceProcAddr(VkInstance handle, const char *name) {
#define OURS(fn)                                                          \
  if (strcmp(name, "vk" #fn) == 0) return (PFN_vkVoidFunction)tag_##fn;
  OURS(GetInstanceProcAddr)
  OURS(CreateInstance)
  OURS(DestroyInstance)
  OURS(EnumeratePhysicalDevices)
  OURS(GetPhysicalDeviceProperties)
  OURS(CreateDevice)
  OURS(GetDeviceProcAddr)
  OURS(DestroyDevice)
#undef OURS
  pthread_mutex_lock(&lock);
  Instance *inst = handle != VK_NULL_HANDLE ? find_instance(handle) : NULL;
  pthread_mutex_unlock(&lock);
  if (inst == NULL) return NULL;
  /* the properties2 entry points only where the layer below has them */
  if (strcmp(name, "vkGetPhysicalDeviceProperties2") == 0)
    return inst->props2 != NULL ? (PFN_vkVoidFunction)tag_GetPhysicalDeviceProperties2 : NULL;
  if (strcmp(name, "vkGetPhysicalDeviceProperties2KHR") == 0)
    return inst->next_gipa(handle, name) != NULL ? (PFN_vkVoidFunction)tag_GetPhysicalDeviceProperties2KHR : NULL;
  return inst->next_gipa(handle, name);
}

EXPORT VKAPI_ATTR VkResult VKAPI_CALL vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *v) {
  if (v == NULL || v->sType != LAYER_NEGOTIATE_INTERFACE_STRUCT) return VK_ERROR_INITIALIZATION_FAILED;
  if (v->loaderLayerInterfaceVersion > 2) v->loaderLayerInterfaceVersion = 2;
  if (v->loaderLayerInterfaceVersion < 2) return VK_ERROR_INITIALIZATION_FAILED;
  v->pfnGetInstanceProcAddr = tag_GetInstanceProcAddr;
  v->pfnGetDeviceProcAddr = tag_GetDeviceProcAddr;
  v->pfnGetPhysicalDeviceProcAddr = NULL;
  return VK_SUCCESS;
}
