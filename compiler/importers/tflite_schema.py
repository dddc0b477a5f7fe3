"""The TFLite model schema as data, read by utc's own flatbuffer reader (flatbuffer.py).

This module stands in for the flatc-generated `tflite` package on the compile path: the
same names (`Model`, `Conv2DOptions`, `BuiltinOperator`, `BuiltinOptions`, `TensorType`,
...) with the same accessor methods (`StrideW()`, `ShapeAsNumpy()`, ...), for every
table, enum and union of the schema, BuiltinOptions and BuiltinOptions2 included, so the
importer's code reads the same as against the `tflite` package. Each name is built into a
class when first used (`from ... import Name` or `tflite_schema.Name`).

The facts below, the fields of each table in slot order (`name:type=default`, `~` for a
deprecated field that keeps its slot) and the values of each enum and union, come from
TFLite's schema, tensorflow/compiler/mlir/lite/schema/schema.fbs, as mirrored by TFLite
Micro at commit 90b983c2b3f1480642e040bbd2ddb37b998f3424 (2026-08-20), extracted by
tools/gen_tflite_schema.py; regenerate them with it when the schema grows.
tests/unit/test_flatbuffer_reader.py compares this reader with the `tflite` package field
by field.
"""

from __future__ import annotations

from utc.compiler.importers.flatbuffer import Schema

# fmt: off
ENUMS: dict[str, tuple[str, str]] = {
    "TensorType": ("byte", ("FLOAT32=0 FLOAT16=1 INT32=2 UINT8=3 INT64=4 STRING=5 BOOL=6 INT16=7 "
                           "COMPLEX64=8 INT8=9 FLOAT64=10 COMPLEX128=11 UINT64=12 RESOURCE=13 "
                           "VARIANT=14 UINT32=15 UINT16=16 INT4=17 BFLOAT16=18 INT2=19 UINT4=20 "
                           "FLOAT8_E4M3FN=21 FLOAT8_E5M2=22")),
    "DimensionType": ("byte", "DENSE=0 SPARSE_CSR=1"),
    "BuiltinOperator": ("int32", ("ADD=0 AVERAGE_POOL_2D=1 CONCATENATION=2 CONV_2D=3 "
                                 "DEPTHWISE_CONV_2D=4 DEPTH_TO_SPACE=5 DEQUANTIZE=6 EMBEDDING_LOOKUP=7 "
                                 "FLOOR=8 FULLY_CONNECTED=9 HASHTABLE_LOOKUP=10 L2_NORMALIZATION=11 "
                                 "L2_POOL_2D=12 LOCAL_RESPONSE_NORMALIZATION=13 LOGISTIC=14 "
                                 "LSH_PROJECTION=15 LSTM=16 MAX_POOL_2D=17 MUL=18 RELU=19 "
                                 "RELU_N1_TO_1=20 RELU6=21 RESHAPE=22 RESIZE_BILINEAR=23 RNN=24 "
                                 "SOFTMAX=25 SPACE_TO_DEPTH=26 SVDF=27 TANH=28 CONCAT_EMBEDDINGS=29 "
                                 "SKIP_GRAM=30 CALL=31 CUSTOM=32 EMBEDDING_LOOKUP_SPARSE=33 PAD=34 "
                                 "UNIDIRECTIONAL_SEQUENCE_RNN=35 GATHER=36 BATCH_TO_SPACE_ND=37 "
                                 "SPACE_TO_BATCH_ND=38 TRANSPOSE=39 MEAN=40 SUB=41 DIV=42 SQUEEZE=43 "
                                 "UNIDIRECTIONAL_SEQUENCE_LSTM=44 STRIDED_SLICE=45 "
                                 "BIDIRECTIONAL_SEQUENCE_RNN=46 EXP=47 TOPK_V2=48 SPLIT=49 "
                                 "LOG_SOFTMAX=50 DELEGATE=51 BIDIRECTIONAL_SEQUENCE_LSTM=52 CAST=53 "
                                 "PRELU=54 MAXIMUM=55 ARG_MAX=56 MINIMUM=57 LESS=58 NEG=59 PADV2=60 "
                                 "GREATER=61 GREATER_EQUAL=62 LESS_EQUAL=63 SELECT=64 SLICE=65 SIN=66 "
                                 "TRANSPOSE_CONV=67 SPARSE_TO_DENSE=68 TILE=69 EXPAND_DIMS=70 EQUAL=71 "
                                 "NOT_EQUAL=72 LOG=73 SUM=74 SQRT=75 RSQRT=76 SHAPE=77 POW=78 "
                                 "ARG_MIN=79 FAKE_QUANT=80 REDUCE_PROD=81 REDUCE_MAX=82 PACK=83 "
                                 "LOGICAL_OR=84 ONE_HOT=85 LOGICAL_AND=86 LOGICAL_NOT=87 UNPACK=88 "
                                 "REDUCE_MIN=89 FLOOR_DIV=90 REDUCE_ANY=91 SQUARE=92 ZEROS_LIKE=93 "
                                 "FILL=94 FLOOR_MOD=95 RANGE=96 RESIZE_NEAREST_NEIGHBOR=97 "
                                 "LEAKY_RELU=98 SQUARED_DIFFERENCE=99 MIRROR_PAD=100 ABS=101 "
                                 "SPLIT_V=102 UNIQUE=103 CEIL=104 REVERSE_V2=105 ADD_N=106 "
                                 "GATHER_ND=107 COS=108 WHERE=109 RANK=110 ELU=111 "
                                 "REVERSE_SEQUENCE=112 MATRIX_DIAG=113 QUANTIZE=114 "
                                 "MATRIX_SET_DIAG=115 ROUND=116 HARD_SWISH=117 IF=118 WHILE=119 "
                                 "NON_MAX_SUPPRESSION_V4=120 NON_MAX_SUPPRESSION_V5=121 SCATTER_ND=122 "
                                 "SELECT_V2=123 DENSIFY=124 SEGMENT_SUM=125 BATCH_MATMUL=126 "
                                 "PLACEHOLDER_FOR_GREATER_OP_CODES=127 CUMSUM=128 CALL_ONCE=129 "
                                 "BROADCAST_TO=130 RFFT2D=131 CONV_3D=132 IMAG=133 REAL=134 "
                                 "COMPLEX_ABS=135 HASHTABLE=136 HASHTABLE_FIND=137 "
                                 "HASHTABLE_IMPORT=138 HASHTABLE_SIZE=139 REDUCE_ALL=140 "
                                 "CONV_3D_TRANSPOSE=141 VAR_HANDLE=142 READ_VARIABLE=143 "
                                 "ASSIGN_VARIABLE=144 BROADCAST_ARGS=145 RANDOM_STANDARD_NORMAL=146 "
                                 "BUCKETIZE=147 RANDOM_UNIFORM=148 MULTINOMIAL=149 GELU=150 "
                                 "DYNAMIC_UPDATE_SLICE=151 RELU_0_TO_1=152 UNSORTED_SEGMENT_PROD=153 "
                                 "UNSORTED_SEGMENT_MAX=154 UNSORTED_SEGMENT_SUM=155 ATAN2=156 "
                                 "UNSORTED_SEGMENT_MIN=157 SIGN=158 BITCAST=159 BITWISE_XOR=160 "
                                 "RIGHT_SHIFT=161 STABLEHLO_LOGISTIC=162 STABLEHLO_ADD=163 "
                                 "STABLEHLO_DIVIDE=164 STABLEHLO_MULTIPLY=165 STABLEHLO_MAXIMUM=166 "
                                 "STABLEHLO_RESHAPE=167 STABLEHLO_CLAMP=168 STABLEHLO_CONCATENATE=169 "
                                 "STABLEHLO_BROADCAST_IN_DIM=170 STABLEHLO_CONVOLUTION=171 "
                                 "STABLEHLO_SLICE=172 STABLEHLO_CUSTOM_CALL=173 STABLEHLO_REDUCE=174 "
                                 "STABLEHLO_ABS=175 STABLEHLO_AND=176 STABLEHLO_COSINE=177 "
                                 "STABLEHLO_EXPONENTIAL=178 STABLEHLO_FLOOR=179 STABLEHLO_LOG=180 "
                                 "STABLEHLO_MINIMUM=181 STABLEHLO_NEGATE=182 STABLEHLO_OR=183 "
                                 "STABLEHLO_POWER=184 STABLEHLO_REMAINDER=185 STABLEHLO_RSQRT=186 "
                                 "STABLEHLO_SELECT=187 STABLEHLO_SUBTRACT=188 STABLEHLO_TANH=189 "
                                 "STABLEHLO_SCATTER=190 STABLEHLO_COMPARE=191 STABLEHLO_CONVERT=192 "
                                 "STABLEHLO_DYNAMIC_SLICE=193 STABLEHLO_DYNAMIC_UPDATE_SLICE=194 "
                                 "STABLEHLO_PAD=195 STABLEHLO_IOTA=196 STABLEHLO_DOT_GENERAL=197 "
                                 "STABLEHLO_REDUCE_WINDOW=198 STABLEHLO_SORT=199 STABLEHLO_WHILE=200 "
                                 "STABLEHLO_GATHER=201 STABLEHLO_TRANSPOSE=202 DILATE=203 "
                                 "STABLEHLO_RNG_BIT_GENERATOR=204 REDUCE_WINDOW=205 "
                                 "STABLEHLO_COMPOSITE=206 STABLEHLO_SHIFT_LEFT=207 STABLEHLO_CBRT=208 "
                                 "STABLEHLO_CASE=209")),
    "StablehloPrecisionConfig": ("uint", "DEFAULT=0 HIGH=1 HIGHEST=2"),
    "StablehloComparisonDirection": ("uint", ("STABLEHLO_COMPARISON_DIRECTION_EQ=0 "
                                             "STABLEHLO_COMPARISON_DIRECTION_NE=1 "
                                             "STABLEHLO_COMPARISON_DIRECTION_GE=2 "
                                             "STABLEHLO_COMPARISON_DIRECTION_GT=3 "
                                             "STABLEHLO_COMPARISON_DIRECTION_LE=4 "
                                             "STABLEHLO_COMPARISON_DIRECTION_LT=5")),
    "StablehloComparisonType": ("uint", ("STABLEHLO_COMPARISON_TYPE_NOTYPE=0 "
                                        "STABLEHLO_COMPARISON_TYPE_FLOAT=1 "
                                        "STABLEHLO_COMPARISON_TYPE_FLOAT_TOTAL_ORDER=2 "
                                        "STABLEHLO_COMPARISON_TYPE_SIGNED=3 "
                                        "STABLEHLO_COMPARISON_TYPE_UNSIGNED=4")),
    "RngAlgorithm": ("byte", "DEFAULT=0 PHILOX=1 THREEFRY=2"),
    "Padding": ("byte", "SAME=0 VALID=1"),
    "ActivationFunctionType": ("byte", "NONE=0 RELU=1 RELU_N1_TO_1=2 RELU6=3 TANH=4 SIGN_BIT=5"),
    "LSHProjectionType": ("byte", "UNKNOWN=0 SPARSE=1 DENSE=2"),
    "FullyConnectedOptionsWeightsFormat": ("byte", "DEFAULT=0 SHUFFLED4x16INT8=1"),
    "LSTMKernelType": ("byte", "FULL=0 BASIC=1"),
    "CombinerType": ("byte", "SUM=0 MEAN=1 SQRTN=2"),
    "MirrorPadMode": ("byte", "REFLECT=0 SYMMETRIC=1"),
    "ReduceWindowFunction": ("int", "UNSUPPORTED=0 ADD=1 MUL=2 MINIMUM=3 MAXIMUM=4 ALL=5 ANY=6"),
    "CustomOptionsFormat": ("byte", "FLEXBUFFERS=0"),
}
UNIONS: dict[str, str] = {
    "QuantizationDetails": ("NONE=0 CustomQuantization=1 BlockwiseQuantization=2 "
                           "MultiAxisQuantization=3"),
    "SparseIndexVector": "NONE=0 Int32Vector=1 Uint16Vector=2 Uint8Vector=3",
    "BuiltinOptions": ("NONE=0 Conv2DOptions=1 DepthwiseConv2DOptions=2 ConcatEmbeddingsOptions=3 "
                      "LSHProjectionOptions=4 Pool2DOptions=5 SVDFOptions=6 RNNOptions=7 "
                      "FullyConnectedOptions=8 SoftmaxOptions=9 ConcatenationOptions=10 AddOptions=11 "
                      "L2NormOptions=12 LocalResponseNormalizationOptions=13 LSTMOptions=14 "
                      "ResizeBilinearOptions=15 CallOptions=16 ReshapeOptions=17 SkipGramOptions=18 "
                      "SpaceToDepthOptions=19 EmbeddingLookupSparseOptions=20 MulOptions=21 "
                      "PadOptions=22 GatherOptions=23 BatchToSpaceNDOptions=24 "
                      "SpaceToBatchNDOptions=25 TransposeOptions=26 ReducerOptions=27 SubOptions=28 "
                      "DivOptions=29 SqueezeOptions=30 SequenceRNNOptions=31 StridedSliceOptions=32 "
                      "ExpOptions=33 TopKV2Options=34 SplitOptions=35 LogSoftmaxOptions=36 "
                      "CastOptions=37 DequantizeOptions=38 MaximumMinimumOptions=39 ArgMaxOptions=40 "
                      "LessOptions=41 NegOptions=42 PadV2Options=43 GreaterOptions=44 "
                      "GreaterEqualOptions=45 LessEqualOptions=46 SelectOptions=47 SliceOptions=48 "
                      "TransposeConvOptions=49 SparseToDenseOptions=50 TileOptions=51 "
                      "ExpandDimsOptions=52 EqualOptions=53 NotEqualOptions=54 ShapeOptions=55 "
                      "PowOptions=56 ArgMinOptions=57 FakeQuantOptions=58 PackOptions=59 "
                      "LogicalOrOptions=60 OneHotOptions=61 LogicalAndOptions=62 LogicalNotOptions=63 "
                      "UnpackOptions=64 FloorDivOptions=65 SquareOptions=66 ZerosLikeOptions=67 "
                      "FillOptions=68 BidirectionalSequenceLSTMOptions=69 "
                      "BidirectionalSequenceRNNOptions=70 UnidirectionalSequenceLSTMOptions=71 "
                      "FloorModOptions=72 RangeOptions=73 ResizeNearestNeighborOptions=74 "
                      "LeakyReluOptions=75 SquaredDifferenceOptions=76 MirrorPadOptions=77 "
                      "AbsOptions=78 SplitVOptions=79 UniqueOptions=80 ReverseV2Options=81 "
                      "AddNOptions=82 GatherNdOptions=83 CosOptions=84 WhereOptions=85 RankOptions=86 "
                      "ReverseSequenceOptions=87 MatrixDiagOptions=88 QuantizeOptions=89 "
                      "MatrixSetDiagOptions=90 HardSwishOptions=91 IfOptions=92 WhileOptions=93 "
                      "DepthToSpaceOptions=94 NonMaxSuppressionV4Options=95 "
                      "NonMaxSuppressionV5Options=96 ScatterNdOptions=97 SelectV2Options=98 "
                      "DensifyOptions=99 SegmentSumOptions=100 BatchMatMulOptions=101 "
                      "CumsumOptions=102 CallOnceOptions=103 BroadcastToOptions=104 Rfft2dOptions=105 "
                      "Conv3DOptions=106 HashtableOptions=107 HashtableFindOptions=108 "
                      "HashtableImportOptions=109 HashtableSizeOptions=110 VarHandleOptions=111 "
                      "ReadVariableOptions=112 AssignVariableOptions=113 RandomOptions=114 "
                      "BucketizeOptions=115 GeluOptions=116 DynamicUpdateSliceOptions=117 "
                      "UnsortedSegmentProdOptions=118 UnsortedSegmentMaxOptions=119 "
                      "UnsortedSegmentMinOptions=120 UnsortedSegmentSumOptions=121 ATan2Options=122 "
                      "SignOptions=123 BitcastOptions=124 BitwiseXorOptions=125 RightShiftOptions=126"),
    "BuiltinOptions2": ("NONE=0 StablehloConcatenateOptions=1 StablehloBroadcastInDimOptions=2 "
                       "StablehloSliceOptions=3 StablehloConvolutionOptions=4 "
                       "StablehloCustomCallOptions=5 StablehloReduceOptions=6 "
                       "StablehloScatterOptions=7 StablehloCompareOptions=8 "
                       "StablehloDynamicSliceOptions=9 StablehloPadOptions=10 StablehloIotaOptions=11 "
                       "StablehloDotGeneralOptions=12 StablehloReduceWindowOptions=13 "
                       "StablehloSortOptions=14 StablehloWhileOptions=15 StablehloGatherOptions=16 "
                       "StablehloTransposeOptions=17 DilateOptions=18 "
                       "StablehloRngBitGeneratorOptions=19 ReduceWindowOptions=20 "
                       "StableHLOCompositeOptions=21 StablehloShiftLeftOptions=22 "
                       "StablehloCaseOptions=23"),
}
TABLES: dict[str, str] = {
    "CustomQuantization": "custom:[ubyte]",
    "BlockwiseQuantization": "scales:int zero_points:int block_size:int",
    "MultiAxisQuantization": "scales:int zero_points:int block_size:int quantized_dimensions:[int]",
    "QuantizationParameters": ("min:[float] max:[float] scale:[float] zero_point:[long] "
                              "details:QuantizationDetails quantized_dimension:int"),
    "Int32Vector": "values:[int]",
    "Uint16Vector": "values:[ushort]",
    "Uint8Vector": "values:[ubyte]",
    "DimensionMetadata": ("format:DimensionType dense_size:int array_segments:SparseIndexVector "
                         "array_indices:SparseIndexVector"),
    "SparsityParameters": "traversal_order:[int] block_map:[int] dim_metadata:[DimensionMetadata]",
    "VariantSubType": "shape:[int] type:TensorType has_rank:bool=false",
    "Tensor": ("shape:[int] type:TensorType buffer:uint name:string quantization:QuantizationParameters "
              "is_variable:bool=false sparsity:SparsityParameters shape_signature:[int] "
              "has_rank:bool=false variant_tensors:[VariantSubType] external_buffer:uint"),
    "StablehloGatherOptions": ("offset_dims:[long] collapsed_slice_dims:[long] start_index_map:[long] "
                              "index_vector_dim:long slice_sizes:[long] indices_are_sorted:bool"),
    "StablehloTransposeOptions": "permutation:[long]",
    "StablehloDotGeneralOptions": ("lhs_batching_dimensions:[long] rhs_batching_dimensions:[long] "
                                  "lhs_contracting_dimensions:[long] rhs_contracting_dimensions:[long] "
                                  "precision_config:[StablehloPrecisionConfig]"),
    "StablehloReduceWindowOptions": ("window_dimensions:[long] window_strides:[long] "
                                    "base_dilations:[long] window_dilations:[long] padding:[long] "
                                    "body_subgraph_index:int"),
    "StablehloWhileOptions": "cond_subgraph_index:int body_subgraph_index:int",
    "StablehloSortOptions": "dimension:long is_stable:bool comparator_subgraph_index:int",
    "StablehloConcatenateOptions": "dimension:long",
    "StablehloBroadcastInDimOptions": "broadcast_dimensions:[long]",
    "StablehloCompareOptions": ("comparison_direction:StablehloComparisonDirection "
                               "compare_type:StablehloComparisonType"),
    "StablehloDynamicSliceOptions": "slice_sizes:[long]",
    "StablehloPadOptions": "edge_padding_low:[long] edge_padding_high:[long] interior_padding:[long]",
    "StablehloIotaOptions": "iota_dimension:long",
    "StablehloCustomCallOptions": ("call_target_name:string has_side_effect:bool backend_config:string "
                                  "api_version:int called_computations:[int] custom_attributes:[ubyte]"),
    "StablehloReduceOptions": "dimensions:[long] body_subgraph_index:int",
    "StablehloSliceOptions": "start_indices:[long] limit_indices:[long] strides:[long]",
    "StablehloConvolutionOptions": ("window_strides:[long] padding:[long] lhs_dilation:[long] "
                                   "rhs_dilation:[long] window_reversal:[bool] "
                                   "input_batch_dimension:long input_feature_dimension:long "
                                   "input_spatial_dimensions:[long] "
                                   "kernel_input_feature_dimension:long "
                                   "kernel_output_feature_dimension:long "
                                   "kernel_spatial_dimensions:[long] output_batch_dimension:long "
                                   "output_feature_dimension:long output_spatial_dimensions:[long] "
                                   "feature_group_count:long batch_group_count:long "
                                   "precision_config:[StablehloPrecisionConfig]"),
    "StablehloScatterOptions": ("indices_are_sorted:bool update_window_dims:[long] "
                               "inserted_window_dims:[long] scatter_dims_to_operand_dims:[long] "
                               "index_vector_dim:long unique_indices:bool "
                               "update_computation_subgraph_index:int"),
    "StablehloCaseOptions": "branch_subgraph_indices:[int]",
    "StablehloRngBitGeneratorOptions": "algorithm:RngAlgorithm",
    "Conv2DOptions": ("padding:Padding stride_w:int stride_h:int "
                     "fused_activation_function:ActivationFunctionType dilation_w_factor:int=1 "
                     "dilation_h_factor:int=1 quantized_bias_type:TensorType"),
    "Conv3DOptions": ("padding:Padding stride_d:int stride_w:int stride_h:int "
                     "fused_activation_function:ActivationFunctionType dilation_d_factor:int=1 "
                     "dilation_w_factor:int=1 dilation_h_factor:int=1"),
    "Pool2DOptions": ("padding:Padding stride_w:int stride_h:int filter_width:int filter_height:int "
                     "fused_activation_function:ActivationFunctionType"),
    "DepthwiseConv2DOptions": ("padding:Padding stride_w:int stride_h:int depth_multiplier:int "
                              "fused_activation_function:ActivationFunctionType "
                              "dilation_w_factor:int=1 dilation_h_factor:int=1"),
    "ConcatEmbeddingsOptions": ("num_channels:int num_columns_per_channel:[int] "
                               "embedding_dim_per_channel:[int]"),
    "LSHProjectionOptions": "type:LSHProjectionType",
    "SVDFOptions": ("rank:int fused_activation_function:ActivationFunctionType "
                   "asymmetric_quantize_inputs:bool"),
    "RNNOptions": "fused_activation_function:ActivationFunctionType asymmetric_quantize_inputs:bool",
    "SequenceRNNOptions": ("time_major:bool fused_activation_function:ActivationFunctionType "
                          "asymmetric_quantize_inputs:bool"),
    "BidirectionalSequenceRNNOptions": ("time_major:bool "
                                       "fused_activation_function:ActivationFunctionType "
                                       "merge_outputs:bool asymmetric_quantize_inputs:bool"),
    "FullyConnectedOptions": ("fused_activation_function:ActivationFunctionType "
                             "weights_format:FullyConnectedOptionsWeightsFormat=DEFAULT "
                             "keep_num_dims:bool asymmetric_quantize_inputs:bool "
                             "quantized_bias_type:TensorType"),
    "SoftmaxOptions": "beta:float",
    "ConcatenationOptions": "axis:int fused_activation_function:ActivationFunctionType",
    "AddOptions": "fused_activation_function:ActivationFunctionType pot_scale_int16:bool=true",
    "MulOptions": "fused_activation_function:ActivationFunctionType",
    "L2NormOptions": "fused_activation_function:ActivationFunctionType",
    "LocalResponseNormalizationOptions": "radius:int bias:float alpha:float beta:float",
    "LSTMOptions": ("fused_activation_function:ActivationFunctionType cell_clip:float proj_clip:float "
                   "kernel_type:LSTMKernelType=FULL asymmetric_quantize_inputs:bool"),
    "UnidirectionalSequenceLSTMOptions": ("fused_activation_function:ActivationFunctionType "
                                         "cell_clip:float proj_clip:float time_major:bool "
                                         "asymmetric_quantize_inputs:bool "
                                         "diagonal_recurrent_tensors:bool"),
    "BidirectionalSequenceLSTMOptions": ("fused_activation_function:ActivationFunctionType "
                                        "cell_clip:float proj_clip:float merge_outputs:bool "
                                        "time_major:bool=true asymmetric_quantize_inputs:bool"),
    "ResizeBilinearOptions": ("~new_height:int ~new_width:int align_corners:bool "
                             "half_pixel_centers:bool"),
    "ResizeNearestNeighborOptions": "align_corners:bool half_pixel_centers:bool",
    "CallOptions": "subgraph:uint",
    "PadOptions": "",
    "PadV2Options": "",
    "ReshapeOptions": "new_shape:[int]",
    "SpaceToBatchNDOptions": "",
    "BatchToSpaceNDOptions": "",
    "SkipGramOptions": "ngram_size:int max_skip_size:int include_all_ngrams:bool",
    "SpaceToDepthOptions": "block_size:int",
    "DepthToSpaceOptions": "block_size:int",
    "SubOptions": "fused_activation_function:ActivationFunctionType pot_scale_int16:bool=true",
    "DivOptions": "fused_activation_function:ActivationFunctionType",
    "TopKV2Options": "",
    "EmbeddingLookupSparseOptions": "combiner:CombinerType",
    "GatherOptions": "axis:int batch_dims:int=0",
    "TransposeOptions": "",
    "ExpOptions": "",
    "CosOptions": "",
    "ReducerOptions": "keep_dims:bool",
    "SqueezeOptions": "squeeze_dims:[int]",
    "SplitOptions": "num_splits:int",
    "SplitVOptions": "num_splits:int",
    "StridedSliceOptions": ("begin_mask:int end_mask:int ellipsis_mask:int new_axis_mask:int "
                           "shrink_axis_mask:int offset:bool"),
    "LogSoftmaxOptions": "",
    "CastOptions": "in_data_type:TensorType out_data_type:TensorType",
    "DequantizeOptions": "",
    "MaximumMinimumOptions": "",
    "TileOptions": "",
    "ArgMaxOptions": "output_type:TensorType",
    "ArgMinOptions": "output_type:TensorType",
    "GreaterOptions": "",
    "GreaterEqualOptions": "",
    "LessOptions": "",
    "LessEqualOptions": "",
    "NegOptions": "",
    "SelectOptions": "",
    "SliceOptions": "",
    "TransposeConvOptions": ("padding:Padding stride_w:int stride_h:int "
                            "fused_activation_function:ActivationFunctionType=NONE "
                            "quantized_bias_type:TensorType"),
    "ExpandDimsOptions": "",
    "SparseToDenseOptions": "validate_indices:bool",
    "EqualOptions": "",
    "NotEqualOptions": "",
    "ShapeOptions": "out_type:TensorType",
    "RankOptions": "",
    "PowOptions": "",
    "FakeQuantOptions": "min:float max:float num_bits:int narrow_range:bool",
    "PackOptions": "values_count:int axis:int",
    "LogicalOrOptions": "",
    "OneHotOptions": "axis:int",
    "AbsOptions": "",
    "HardSwishOptions": "",
    "LogicalAndOptions": "",
    "LogicalNotOptions": "",
    "UnpackOptions": "num:int axis:int",
    "FloorDivOptions": "",
    "SquareOptions": "",
    "ZerosLikeOptions": "",
    "FillOptions": "",
    "FloorModOptions": "",
    "RangeOptions": "",
    "LeakyReluOptions": "alpha:float",
    "SquaredDifferenceOptions": "",
    "MirrorPadOptions": "mode:MirrorPadMode",
    "UniqueOptions": "idx_out_type:TensorType=INT32",
    "ReverseV2Options": "",
    "AddNOptions": "",
    "GatherNdOptions": "",
    "WhereOptions": "",
    "ReverseSequenceOptions": "seq_dim:int batch_dim:int=0",
    "MatrixDiagOptions": "",
    "QuantizeOptions": "",
    "MatrixSetDiagOptions": "",
    "IfOptions": "then_subgraph_index:int else_subgraph_index:int",
    "CallOnceOptions": "init_subgraph_index:int",
    "WhileOptions": "cond_subgraph_index:int body_subgraph_index:int",
    "NonMaxSuppressionV4Options": "",
    "NonMaxSuppressionV5Options": "",
    "ScatterNdOptions": "",
    "SelectV2Options": "",
    "DensifyOptions": "",
    "SegmentSumOptions": "",
    "BatchMatMulOptions": "adj_x:bool adj_y:bool asymmetric_quantize_inputs:bool",
    "CumsumOptions": "exclusive:bool reverse:bool",
    "BroadcastToOptions": "",
    "Rfft2dOptions": "",
    "HashtableOptions": "table_id:int key_dtype:TensorType value_dtype:TensorType",
    "HashtableFindOptions": "",
    "HashtableImportOptions": "",
    "HashtableSizeOptions": "",
    "VarHandleOptions": "container:string shared_name:string",
    "ReadVariableOptions": "",
    "AssignVariableOptions": "",
    "RandomOptions": "seed:long seed2:long",
    "BucketizeOptions": "boundaries:[float]",
    "GeluOptions": "approximate:bool",
    "DynamicUpdateSliceOptions": "",
    "UnsortedSegmentProdOptions": "",
    "UnsortedSegmentMaxOptions": "",
    "UnsortedSegmentSumOptions": "",
    "ATan2Options": "",
    "UnsortedSegmentMinOptions": "",
    "SignOptions": "",
    "BitcastOptions": "",
    "BitwiseXorOptions": "",
    "RightShiftOptions": "",
    "DilateOptions": "",
    "ReduceWindowOptions": "reduce_function:ReduceWindowFunction",
    "OperatorCode": ("deprecated_builtin_code:byte custom_code:string version:int=1 "
                    "builtin_code:BuiltinOperator"),
    "StableHLOCompositeOptions": ("name:string decomposition_subgraph_index:int32 "
                                 "composite_attributes:[ubyte] "
                                 "composite_attributes_format:CustomOptionsFormat version:int32"),
    "StablehloShiftLeftOptions": "",
    "Operator": ("opcode_index:uint inputs:[int] outputs:[int] builtin_options:BuiltinOptions "
                "custom_options:[ubyte] custom_options_format:CustomOptionsFormat "
                "mutating_variable_inputs:[bool] intermediates:[int] large_custom_options_offset:ulong "
                "large_custom_options_size:ulong builtin_options_2:BuiltinOptions2 "
                "debug_metadata_index:int=-1"),
    "SubGraph": ("tensors:[Tensor] inputs:[int] outputs:[int] operators:[Operator] name:string "
                "debug_metadata_index:int=-1"),
    "Buffer": "data:[ubyte] offset:ulong size:ulong",
    "ExternalBufferGroup": "name:string",
    "ExternalBuffer": "id:uint group:uint offset:ulong length:ulong packing:string",
    "Metadata": "name:string buffer:uint",
    "TensorMap": "name:string tensor_index:uint",
    "SignatureDef": ("inputs:[TensorMap] outputs:[TensorMap] signature_key:string "
                    "~deprecated_tag:string subgraph_index:uint"),
    "Model": ("version:uint operator_codes:[OperatorCode] subgraphs:[SubGraph] description:string "
             "buffers:[Buffer] metadata_buffer:[int] metadata:[Metadata] signature_defs:[SignatureDef] "
             "external_buffer_groups:[ExternalBufferGroup] external_buffers:[ExternalBuffer]"),
}
# fmt: on

SCHEMA = Schema(ENUMS, UNIONS, TABLES)


def __getattr__(name: str) -> type:
    """The class of a schema name, built on first use and kept as a module attribute."""
    try:
        cls = SCHEMA.get(name)
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = cls
    return cls


def __dir__() -> list[str]:
    return sorted({*globals(), *SCHEMA.names()})
