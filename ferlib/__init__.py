"""ferlib: a reproduction workbook for video facial expression recognition.

Four published methods (FER-GCN, Frame Attention Networks, a key-point GCN with temporal
self-attention, and an ST-GCN over facial landmarks) behind one data pipeline: a clip index,
a clip store, samplers, clip-consistent transforms, protocols and metrics.
"""

__version__ = "0.1.0"
